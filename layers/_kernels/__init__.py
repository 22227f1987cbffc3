"""Numba kernels behind the layers, one module per layer family.

Importing this package picks Numba's threading layer for the kernels compiled
with ``parallel=True`` (upsampling): ``workqueue``, Numba's own thread pool,
unless the user chose one with ``NUMBA_THREADING_LAYER``. The default choice
would be Numba's OpenMP layer on the system's OpenMP runtime; in one process
beside PyTorch's bundled OpenMP runtime, the two pools fought over the cores
and a PyTorch attention step that takes ~13 ms alone took ~1.2 s. ``workqueue``
coexists with it. It costs nothing measurable on large inputs but more per
launch on tiny ones, and it is not thread-safe (two Python threads must not
run a parallel kernel at once: set ``NUMBA_THREADING_LAYER=tbb`` for that).
The setting only takes effect if no Numba parallel code has launched a
threading layer yet in this process.
"""
import os

import numba

if not os.environ.get("NUMBA_THREADING_LAYER"):
    numba.config.THREADING_LAYER = "workqueue"
