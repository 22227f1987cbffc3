"""``Sequential`` (modules applied in order) and ``Flatten``."""
from minigrad import Module

from ._validation import array_of


class Sequential(Module):
    """``Sequential(*modules)``: call each module on the previous one's output.

    Indexable (an int gives a module, a slice a new ``Sequential`` sharing the
    modules), iterable and sized. The modules are stored as attributes named
    ``"0"``, ``"1"``, ... so parameter names (``0.weight``) match PyTorch's.
    """

    def __init__(self, *modules):
        super().__init__()
        self._size = 0
        for m in modules:
            self.append(m)

    def append(self, module):
        """Add ``module`` at the end; returns self."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: expected a Module, got {type(module).__name__}")
        setattr(self, str(self._size), module)
        self._size += 1
        return self

    def forward(self, x):
        for m in self:
            x = m(x)
        return x

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*(self[i] for i in range(self._size)[index]))
        if not -self._size <= index < self._size:
            raise IndexError(f"Sequential: index {index} out of range for {self._size} modules")
        return getattr(self, str(index % self._size))

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(self._size))


class Flatten(Module):
    """``Flatten(start_dim=1, end_dim=-1)``: merge axes start_dim..end_dim into one."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x):
        shape = array_of(x).shape
        start, end = self.start_dim % max(len(shape), 1), self.end_dim % max(len(shape), 1)
        if len(shape) == 0 or start > end:
            raise ValueError(
                f"Flatten: cannot flatten dims {self.start_dim}..{self.end_dim} of x with shape {shape}"
            )
        new_shape = shape[:start] + (-1,) + shape[end + 1:]
        return x.reshape(*new_shape)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
