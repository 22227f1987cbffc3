"""``Function.from_pair``: how a CS231n forward/backward pair joins the graph."""
import numpy as np
import pytest

import minigrad as mg


def scale_shift_forward(x, weight, bias, offset=0.0):
    """out = x * weight + bias + offset; two outputs: out and its square."""
    out = x * weight + (0.0 if bias is None else bias) + offset
    return (out, out * out), (x, weight, out)


def scale_shift_backward(dout, cache, needs_grad=(True, True, True)):
    x, weight, out = cache
    d_out, d_square = dout
    g = d_out + 2 * out * d_square
    calls.append(needs_grad)
    return g * weight, (g * x).sum() if needs_grad[1] else None, g.sum()


calls = []
ScaleShift = mg.Function.from_pair(scale_shift_forward, scale_shift_backward)


def cube_forward(x):
    return x**3, x


def cube_backward(dout, cache):
    return 3 * cache**2 * dout


Cube = mg.Function.from_pair(cube_forward, cube_backward)


def test_pair_function_passes_gradcheck_for_every_input():
    rng = np.random.default_rng(0)
    x = mg.Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = mg.Tensor(rng.standard_normal(()), requires_grad=True)
    b = mg.Tensor(rng.standard_normal(()), requires_grad=True)

    def both_outputs(x, w, b):
        out, square = ScaleShift.apply(x, w, b, offset=0.5)
        return out + square

    errors = mg.gradcheck(both_outputs, x, w, b)
    assert len(errors) == 3 and max(errors) < 1e-7


def test_single_input_pair_returns_a_bare_array_gradient():
    x = mg.Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    Cube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad, 3 * x.data**2)


def test_needs_grad_reaches_backward_and_unneeded_grads_are_dropped():
    x = mg.Tensor(np.ones(3), requires_grad=True)
    w = mg.Tensor(np.array(2.0))  # a constant: its gradient is neither asked for nor stored
    calls.clear()
    out, _ = ScaleShift.apply(x, w, None)
    out.sum().backward()
    assert calls == [(True, False, False)]
    assert w.grad is None
    np.testing.assert_allclose(x.grad, np.full(3, 2.0))


def test_unused_output_gets_zero_gradient():
    x = mg.Tensor(np.ones(2), requires_grad=True)
    out, _ = ScaleShift.apply(x, mg.Tensor(np.array(3.0)), None)
    out.sum().backward()  # only the first output is used
    np.testing.assert_allclose(x.grad, np.full(2, 3.0))


def test_pair_function_is_named_after_its_forward():
    assert Cube.__name__ == "cube"
    assert issubclass(Cube, mg.Function)
    assert mg.Function.from_pair(cube_forward, cube_backward, name="Cubed").__name__ == "Cubed"


def test_wrong_gradient_shape_from_a_pair_names_the_function():
    Bad = mg.Function.from_pair(lambda x: (x * 2, None), lambda dout, cache: dout.sum(), name="Bad")
    x = mg.Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(RuntimeError, match="Bad.backward returned a gradient of shape"):
        Bad.apply(x).sum().backward()


def test_a_pair_returning_the_wrong_number_of_gradients_is_reported():
    Extra = mg.Function.from_pair(cube_forward, lambda dout, cache: (dout, dout), name="Extra")
    x = mg.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="returned 2 gradients for 1 inputs of cube_forward"):
        Extra.apply(x).sum().backward()
