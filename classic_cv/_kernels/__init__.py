"""Numba kernels for classic_cv (pure arrays in, arrays out; no validation).

The kernels of filters, canny, harris and hough are single-threaded on purpose.
Measured on the shared 2-core machines: a ``prange`` over the 180 angles of
the line transform took 24 ms against 1.7 ms serial, and a two-chunk parallel
Harris halved the best time (1.0 vs 2.0 ms) but tripled the median (25 vs
8 ms), because a parallel region waits for its slowest thread and under load
one of them is usually descheduled. Instead, the kernels avoid full-size
intermediates (rows are streamed through small ring buffers) and branches in
their hot loops.
"""
