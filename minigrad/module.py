"""``Parameter`` and ``Module``: the containers models are built from."""
from collections import OrderedDict

import numpy as np

from .tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a ``Module`` owns and an optimizer updates.

    Parameters
    ----------
    data : array_like
        Initial values (floating point).
    requires_grad : bool
        True by default; set False to freeze the parameter.
    """

    def __init__(self, data, requires_grad=True, dtype=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self):
        return "Parameter" + super().__repr__()[len("Tensor"):]


class Module:
    """Base class of models and layers.

    Subclasses assign ``Parameter``s, sub-``Module``s (also inside lists,
    tuples and dicts) and buffers (``register_buffer``) as attributes and
    implement ``forward``; calling the module calls ``forward``. Parameters
    are found by walking the attributes, so there is nothing to register.
    """

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_buffer_names", [])

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ---------------------------------------------------------- discovery
    def register_buffer(self, name, array):
        """Store a non-trainable array (e.g. running statistics) in the state dict."""
        if "_buffer_names" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call Module.__init__() before register_buffer")
        if name not in self._buffer_names:
            self._buffer_names.append(name)
        setattr(self, name, np.asarray(array))

    def named_children(self):
        """Yield ``(name, module)`` for each direct sub-module, in attribute order."""
        for name, value in vars(self).items():
            yield from _members(name, value, Module)

    def children(self):
        return [m for _, m in self.named_children()]

    def named_modules(self, prefix=""):
        """Yield ``(dotted_name, module)`` for this module and all below it."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return [m for _, m in self.named_modules()]

    def named_parameters(self):
        """Yield ``(dotted_name, Parameter)`` for every parameter, each once."""
        seen = set()
        for module_name, module in self.named_modules():
            for name, value in vars(module).items():
                for sub_name, param in _members(name, value, Parameter):
                    if id(param) not in seen:
                        seen.add(id(param))
                        yield (f"{module_name}.{sub_name}" if module_name else sub_name), param

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_buffers(self):
        for module_name, module in self.named_modules():
            for name in module._buffer_names:
                yield (f"{module_name}.{name}" if module_name else name), getattr(module, name)

    # ------------------------------------------------------------- modes
    def train(self, mode=True):
        """Switch this module and all below it to training mode (or eval if False)."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        """Switch to evaluation mode (dropout off, batchnorm uses running stats)."""
        return self.train(False)

    def zero_grad(self):
        """Set ``.grad`` of every parameter to None."""
        for p in self.parameters():
            p.grad = None

    # ------------------------------------------------------------- state
    def state_dict(self):
        """Return an ordered ``{name: array copy}`` of parameters and buffers."""
        state = OrderedDict((name, p.data.copy()) for name, p in self.named_parameters())
        state.update((name, np.array(b, copy=True)) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state, strict=True):
        """Copy arrays from ``state`` into the parameters and buffers.

        Shapes must match exactly. With ``strict=True`` (the default) the set
        of names must match too; the error lists what is missing and what is
        unexpected. Nothing is changed when an error is raised.
        """
        params = dict(self.named_parameters())
        buffers = dict(self.named_buffers())
        expected = set(params) | set(buffers)
        missing = sorted(expected - set(state))
        unexpected = sorted(set(state) - expected)
        if strict and (missing or unexpected):
            raise KeyError(
                f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}"
            )
        for name in expected & set(state):
            current = params[name].data if name in params else np.asarray(buffers[name])
            new = np.asarray(state[name])
            if new.shape != current.shape:
                raise ValueError(
                    f"load_state_dict: shape mismatch for '{name}': "
                    f"model has {current.shape}, state has {new.shape}"
                )
        for name in expected & set(state):
            new = np.asarray(state[name])
            if name in params:
                params[name].data = new.astype(params[name].dtype, copy=True)
            else:
                module_name, _, attr = name.rpartition(".")
                owner = dict(self.named_modules())[module_name]
                setattr(owner, attr, new.astype(np.asarray(buffers[name]).dtype, copy=True))

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        children = list(self.named_children())
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return lines[0] + (")" if not children else "\n" + "\n".join(lines[1:]) + "\n)")

    def extra_repr(self):
        """Override to show constructor arguments in ``repr``."""
        return ""


def _members(name, value, kind):
    """Yield ``(dotted_name, item)`` for items of type ``kind`` in an attribute,
    looking inside lists, tuples and dicts (as ``name.0``, ``name.key``)."""
    if isinstance(value, kind):
        yield name, value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _members(f"{name}.{i}", item, kind)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _members(f"{name}.{key}", item, kind)
