"""``Sequential`` (modules applied in order) and ``Flatten``."""
import math

import numpy as np

from minigrad import Module, Tensor
from minigrad.validation import check_int


class Sequential(Module):
    """``Sequential(*modules)``: call each module on the previous one's output.

    Indexable (an int gives a module, a slice a new ``Sequential`` sharing the
    modules; anything else is a TypeError), iterable and sized. The modules are stored as attributes named
    ``"0"``, ``"1"``, ... so parameter names (``0.weight``) match PyTorch's.

    A module with a ``forward_fused(x, following)`` method may compute itself and the module
    after it in one call (batch norm followed by ``ReLU``: one pass over memory each way
    fewer); it returns None where it does not fuse with ``following``.
    """

    def __init__(self, *modules):
        super().__init__()
        self._size = 0
        for m in modules:
            self.append(m)

    def append(self, module):
        """Add ``module`` at the end; returns self."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: module must be a Module, got {type(module).__name__}")
        setattr(self, str(self._size), module)
        self._size += 1
        return self

    def forward(self, x):
        modules, i = list(self), 0
        while i < len(modules):
            fused = getattr(modules[i], "forward_fused", None)
            out = None if fused is None or i + 1 == len(modules) else fused(x, modules[i + 1])
            if out is None:
                x, i = modules[i](x), i + 1
            else:
                x, i = out, i + 2
        return x

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*(self[i] for i in range(self._size)[index]))
        index = check_int("Sequential", "index", index)
        if not -self._size <= index < self._size:
            raise IndexError(f"Sequential: index {index} out of range for {self._size} modules")
        return getattr(self, str(index % self._size))

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(self._size))


class Flatten(Module):
    """``Flatten(start_dim=1, end_dim=-1)``: merge axes start_dim..end_dim into one.

    As in PyTorch, a dimension outside x's axes is an ``IndexError`` and a 0-D
    input counts as having one axis.
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = check_int("Flatten", "start_dim", start_dim)
        self.end_dim = check_int("Flatten", "end_dim", end_dim)

    def forward(self, x):
        if not isinstance(x, (Tensor, np.ndarray)):  # anything else has no reshape
            raise TypeError(f"Flatten: x must be a Tensor or an ndarray, got {type(x).__name__}")
        shape = x.shape
        start, end = (self._axis(name, shape) for name in ("start_dim", "end_dim"))
        if start > end:
            raise ValueError(
                f"Flatten: cannot flatten dims {self.start_dim}..{self.end_dim} of x with shape {shape}"
            )
        # The merged size is explicit: -1 is ambiguous when another axis is empty (N = 0).
        return x.reshape(*shape[:start], math.prod(shape[start:end + 1]), *shape[end + 1:])

    def _axis(self, name, shape):
        """``start_dim`` or ``end_dim`` as a non-negative axis of ``shape``, or IndexError."""
        value, ndim = getattr(self, name), max(len(shape), 1)
        if not -ndim <= value < ndim:
            raise IndexError(
                f"Flatten: {name} must be in [{-ndim}, {ndim - 1}] for x with shape {shape}, got {value}"
            )
        return value % ndim

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
