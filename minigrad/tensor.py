"""The ``Tensor`` type and the reverse-mode engine that walks its graph.

A Tensor wraps one ``np.ndarray`` (``.data``). When it was produced by a
recorded operation it also points at the graph ``Node`` that made it, so
``backward()`` can walk from the result back to the leaves.
"""
import sys

import numpy as np

from ._dtype import as_array


class Node:
    """One recorded call of a ``Function``: what to call and on which inputs.

    Attributes
    ----------
    function : type
        The ``Function`` subclass whose ``backward`` is called.
    ctx : Context
        What ``forward`` saved for ``backward``.
    inputs : tuple of (Tensor or None)
        The positional inputs of the call, aligned with ``backward``'s result.
    n_outputs : int
        How many tensors ``forward`` returned.
    """

    __slots__ = ("function", "ctx", "inputs", "n_outputs", "output_shapes", "output_dtypes")

    def __init__(self, function, ctx, inputs, outputs):
        self.function = function
        self.ctx = ctx
        self.inputs = inputs
        self.n_outputs = len(outputs)
        self.output_shapes = tuple(o.shape for o in outputs)
        self.output_dtypes = tuple(o.dtype for o in outputs)


class Tensor:
    """An n-dimensional array that remembers how it was computed.

    Parameters
    ----------
    data : array_like
        The values. ndarrays keep their dtype; Python scalars and lists
        become the default float dtype (see ``set_default_dtype``).
    requires_grad : bool
        Whether ``backward`` should compute a gradient for this tensor.
        Only floating-point tensors may require gradients.
    dtype : dtype, optional
        Convert the data to this dtype first.
    """

    # Let ``ndarray <op> Tensor`` defer to the Tensor's reflected operator.
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        self.data = as_array(data, dtype)
        self.grad = None
        self._node = None
        self._output_index = 0
        self._retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    # ------------------------------------------------------------------ info
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        return self.data.size

    @property
    def is_leaf(self):
        """True for tensors created by the user rather than by a recorded op."""
        return self._node is None

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({body}, dtype={self.dtype}{extra})"

    def numpy(self):
        """Return the underlying array (not a copy)."""
        return self.data

    def item(self):
        """Return the value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: tensor must have exactly one element, got shape {self.shape}")
        return self.data.item()

    # ------------------------------------------------------------- autograd
    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place and return ``self``."""
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError(
                f"requires_grad: only floating-point tensors can require gradients, "
                f"got dtype {self.data.dtype}"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self):
        """Return a tensor sharing ``data`` but cut off from the graph."""
        return Tensor(self.data)

    def retain_grad(self):
        """Ask ``backward`` to store ``.grad`` on this non-leaf tensor too."""
        self._retains_grad = True
        return self

    def zero_grad(self):
        """Forget the accumulated gradient (sets ``.grad`` to None)."""
        self.grad = None

    def backward(self, grad=None):
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires it.

        Parameters
        ----------
        grad : array_like, optional
            The upstream gradient, same shape as ``self``. It may be omitted
            only when ``self`` holds a single element (a scalar loss).
        """
        if self.data.dtype.kind not in "fc":
            raise TypeError(
                f"backward: cannot backpropagate through a tensor of dtype {self.data.dtype}; "
                "gradients exist only for floating-point tensors"
            )
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad and has no graph "
                "(was it computed under no_grad, or from inputs with requires_grad=False?)"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: grad must be given for a non-scalar output, "
                    f"got an output of shape {self.shape}"
                )
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=self.dtype)
            if grad.shape != self.shape:
                raise ValueError(
                    f"backward: grad must have the output's shape {self.shape}, got {grad.shape}"
                )
        _run_backward(self, grad)

    # The operators (``+ - * / ** @``, indexing) and the method forms of the
    # ops (``x.sum()``, ``x.relu()``) are installed by ``minigrad._methods``:
    # this module must not import the ops, which import Tensor.

    # Comparisons return boolean tensors and never carry gradients.
    def __lt__(self, other):
        return Tensor(self.data < _raw(other))

    def __le__(self, other):
        return Tensor(self.data <= _raw(other))

    def __gt__(self, other):
        return Tensor(self.data > _raw(other))

    def __ge__(self, other):
        return Tensor(self.data >= _raw(other))

    def __eq__(self, other):
        return Tensor(self.data == _raw(other))

    def __ne__(self, other):
        return Tensor(self.data != _raw(other))

    # Identity hashing, so tensors can be dict keys and set members; ``in`` on
    # a list compares by identity first, then by ``==`` and ``__bool__``.
    __hash__ = object.__hash__

    def __bool__(self):
        """Truth of a one-element tensor; ambiguous (an error) for any other size, as in NumPy."""
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a Tensor of shape {self.shape} is ambiguous; "
                "use .data.any() or .data.all(), or compare tensors with `is`"
            )
        return bool(self.data)


def _raw(value):
    return value.data if isinstance(value, Tensor) else value


def _topological_order(root):
    """Nodes reachable from ``root``, each after every node that consumes it.

    Iterative depth-first search with an explicit stack, so a 100k-op chain
    needs no Python recursion.
    """
    order, visited = [], set()
    stack = [(root._node, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for inp in node.inputs:
            if inp is not None and inp._node is not None and id(inp._node) not in visited:
                stack.append((inp._node, False))
    order.reverse()  # consumers first
    return order


def _run_backward(root, grad):
    if root._node is None:  # a leaf: d(root)/d(root) is the identity
        _accumulate_into(root, grad)
        return
    # Output gradients waiting for each node: {id(node): [grad or None per output]}.
    pending = {id(root._node): [None] * root._node.n_outputs}
    pending[id(root._node)][root._output_index] = grad
    if root._retains_grad:
        _accumulate_into(root, grad)
    for node in _topological_order(root):
        out_grads = pending.pop(id(node), None)
        if out_grads is None or all(g is None for g in out_grads):
            continue
        if node.n_outputs == 1:
            upstream = out_grads[0]
        else:  # unused outputs of a multi-output Function get zeros
            upstream = tuple(
                np.zeros(shape, dtype) if g is None else g
                for g, shape, dtype in zip(out_grads, node.output_shapes, node.output_dtypes)
            )
        input_grads = node.function.backward(node.ctx, upstream)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if len(input_grads) != len(node.inputs):
            raise RuntimeError(
                f"{node.function.__name__}.backward returned {len(input_grads)} gradients "
                f"for {len(node.inputs)} inputs"
            )
        # A list of our own, emptied as we go, so that each gradient is held by
        # the local ``g`` alone unless something else keeps it (see below).
        input_grads = list(input_grads)
        for i, inp in enumerate(node.inputs):
            g, input_grads[i] = input_grads[i], None
            if inp is None or g is None or not inp.requires_grad:
                continue
            g = np.asarray(g)
            if g.shape != inp.shape:
                raise RuntimeError(
                    f"{node.function.__name__}.backward returned a gradient of shape "
                    f"{g.shape} for an input of shape {inp.shape}"
                )
            g = g.astype(inp.dtype, copy=False)
            if inp._node is None:
                # Checked before the call below, whose arguments hold g too.
                owned = _held_by_caller_alone(g)
                _accumulate_into(inp, g, owned)
            elif inp._retains_grad:  # g also goes on to the node's backward: never take it
                _accumulate_into(inp, g)
            if inp._node is not None:
                slots = pending.setdefault(id(inp._node), [None] * inp._node.n_outputs)
                k = inp._output_index
                slots[k] = g if slots[k] is None else slots[k] + g


def _accumulate_into(tensor, grad, owned=False):
    """Add ``grad`` to ``tensor.grad``. The first gradient is copied, so that
    ``.grad`` never shares memory with an array something else holds (Add
    passes one array to both inputs; a backward may return its upstream
    gradient); an ``owned`` one, which nothing else can reach, is taken as it
    is, as PyTorch does: for a large leaf that copy was a quarter of ReLU's
    forward and backward."""
    if tensor.grad is None:
        tensor.grad = grad if owned else np.array(grad, dtype=tensor.dtype, copy=True)
    else:
        tensor.grad += grad


def _counts_when_alone():
    def counts(array):  # counted as in ``_held_by_caller_alone``
        base = array.base
        return sys.getrefcount(array), sys.getrefcount(base)

    owner = np.empty(2)
    view = owner.reshape(1, 2)
    del owner
    return counts(view)


# ``sys.getrefcount`` inside ``_held_by_caller_alone`` for an array held by one
# local variable of its caller, and for that array's base, held by nothing but
# the array. Measured, not assumed: interpreters count their own references
# differently.
_ALONE, _BASE_ALONE = _counts_when_alone()


def _held_by_caller_alone(array):
    """Whether the caller's one local variable is all that reaches ``array``'s memory.

    Every other holder adds a reference: to ``array`` (a container, an
    attribute, a second local) or to its base (any view of that memory, since
    NumPy points every view at the array that owns the memory). A writable
    array that owns its memory, or is a whole-buffer view (a reshape) of an
    owner that nothing else holds, may then become a ``.grad`` without a copy.
    """
    if not array.flags.writeable or sys.getrefcount(array) > _ALONE:
        return False
    base = array.base
    if base is None:
        return True
    return (isinstance(base, np.ndarray) and base.base is None and base.size == array.size
            and sys.getrefcount(base) <= _BASE_ALONE)
