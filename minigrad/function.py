"""``Function``: the single door through which an operation enters the graph.

Write a new differentiable operation by subclassing ``Function`` with two
static methods that work on plain ndarrays::

    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved
            return (3 * x ** 2 * grad,)

    y = Cube.apply(t)          # t is a Tensor; y is a Tensor on the graph

``backward`` returns one gradient per positional input of ``forward`` (``None``
for inputs that need none), each with that input's shape.

A layer written CS231n-style, as a pair of functions on arrays, needs no
class at all: ``Function.from_pair(cube_forward, cube_backward)`` is the
``Function`` above. See ``from_pair`` for the pair's calling convention.
"""
import inspect

import numpy as np

from ._grad_mode import is_grad_enabled
from .tensor import Node, Tensor


class Context:
    """Scratch space shared by one ``forward`` call and its ``backward``.

    Attributes
    ----------
    saved : tuple of ndarray
        Whatever ``save_for_backward`` stored.
    needs_grad : tuple of bool
        For each positional input, whether its gradient will be used; a
        ``forward`` may skip work that only serves gradients nobody needs.
    """

    def __init__(self, needs_grad):
        self.saved = ()
        self.needs_grad = needs_grad

    def save_for_backward(self, *arrays):
        self.saved = arrays


class Function:
    """Base class of every differentiable operation. See the module docstring."""

    @staticmethod
    def forward(ctx, *arrays, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **kwargs):
        """Run ``forward`` on the inputs' arrays and record the call if needed.

        Positional inputs may be Tensors, array-likes (treated as constants)
        or None; keyword arguments are passed to ``forward`` unchanged. The
        call is recorded only when grad mode is on and some input requires
        grad. Returns a Tensor, or a tuple of Tensors when ``forward`` returns
        a tuple of arrays.
        """
        tensors = tuple(
            None if x is None else x if isinstance(x, Tensor) else Tensor(x) for x in inputs
        )
        needs_grad = tuple(t is not None and t.requires_grad for t in tensors)
        record = is_grad_enabled() and any(needs_grad)
        # Unrecorded (no_grad, or constants only): no gradient will be asked for.
        ctx = Context(needs_grad if record else (False,) * len(tensors))
        raw = cls.forward(ctx, *(None if t is None else t.data for t in tensors), **kwargs)
        multiple = isinstance(raw, tuple)
        outputs = tuple(np.asarray(r) for r in (raw if multiple else (raw,)))
        results = tuple(Tensor(o) for o in outputs)
        if record:
            node = Node(cls, ctx, tensors, outputs)
            for index, result in enumerate(results):
                if result.dtype.kind in "fc":
                    result.requires_grad = True
                    result._node = node
                    result._output_index = index
        return results if multiple else results[0]

    @classmethod
    def from_pair(cls, forward, backward, name=None):
        """A ``Function`` made of a CS231n-style pair of functions on arrays.

        Parameters
        ----------
        forward : callable
            ``forward(*arrays, **options) -> (out, cache)``. The positional
            arguments are the differentiable inputs (ndarrays, or None for an
            absent optional input such as a bias); keyword arguments are
            options. ``out`` is an ndarray, or a tuple of ndarrays for a layer
            with several outputs.
        backward : callable
            ``backward(dout, cache) -> grads``, or
            ``backward(dout, cache, needs_grad=...) -> grads`` when it can skip
            work: ``needs_grad`` is then a tuple of bools, one per positional
            input of ``forward``. ``dout`` is an ndarray, or a tuple (one per
            output, zeros for unused outputs) when ``forward`` returned a
            tuple. ``grads`` is one gradient per positional input (a bare
            ndarray when there is one input); gradients of inputs that need
            none are dropped here, so ``backward`` may compute them anyway.
        name : str, optional
            The class name shown in error messages (default: ``forward``'s
            name without its ``_forward`` suffix).

        Returns
        -------
        type
            A ``Function`` subclass; call it as ``F.apply(*tensors, **options)``.
        """
        takes_needs = "needs_grad" in inspect.signature(backward).parameters

        def forward_step(ctx, *arrays, **options):
            out, ctx.cache = forward(*arrays, **options)
            return out

        def backward_step(ctx, dout):
            if takes_needs:
                grads = backward(dout, ctx.cache, needs_grad=ctx.needs_grad)
            else:
                grads = backward(dout, ctx.cache)
            grads = grads if isinstance(grads, tuple) else (grads,)
            if len(grads) != len(ctx.needs_grad):
                raise RuntimeError(f"{backward.__name__} returned {len(grads)} gradients for "
                                   f"{len(ctx.needs_grad)} inputs of {forward.__name__}")
            return tuple(g if need else None for g, need in zip(grads, ctx.needs_grad))

        name = name or forward.__name__.removesuffix("_forward")
        return type(name, (cls,), {
            "forward": staticmethod(forward_step),
            "backward": staticmethod(backward_step),
            "__doc__": f"``{forward.__name__}``/``{backward.__name__}`` on the graph.",
            "__module__": forward.__module__,
        })
