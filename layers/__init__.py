"""CS231n-style layers: forward/backward pairs, autograd Functions and Modules."""
