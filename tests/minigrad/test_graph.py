"""The backward engine: reuse, long chains, grad mode, accumulation, errors."""
import time

import numpy as np
import pytest

import minigrad as mg


def test_diamond_reuse_accumulates_both_paths():
    x = mg.Tensor(np.array([1.5, -2.0]), requires_grad=True)
    a = x * 3.0
    y = (a * a + a.exp()).sum()  # a feeds two branches that meet again
    y.backward()
    expected = 3.0 * (2 * 3.0 * x.data + np.exp(3.0 * x.data))
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12)


def test_node_used_many_times_accumulates_every_use():
    x = mg.Tensor(np.array(2.0), requires_grad=True)
    total = x
    for _ in range(9):
        total = total + x
    total.backward()
    assert x.grad == pytest.approx(10.0)


def test_chain_of_100k_ops_backpropagates_without_recursion():
    x = mg.Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y = y * 2.0
    y.backward()
    assert x.grad == pytest.approx(2.0)


def test_backward_time_is_linear_in_chain_length():
    def backward_seconds(n):
        x = mg.Tensor(np.array(1.0), requires_grad=True)
        y = x
        for _ in range(n):
            y = y + 1.0
        start = time.perf_counter()
        y.backward()
        return time.perf_counter() - start

    backward_seconds(1000)  # warm up
    small, large = backward_seconds(10_000), backward_seconds(80_000)
    # 8x the nodes must not cost anywhere near 64x (quadratic) the time.
    assert large < 30 * small + 0.5


def test_grad_accumulates_across_backward_calls_until_zeroed():
    x = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 4 * x.data)
    x.zero_grad()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data)


def test_backward_on_non_scalar_requires_grad_argument():
    x = mg.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"grad must be given.*\(2, 3\)"):
        (x * 2.0).backward()
    (x * 2.0).backward(np.ones((2, 3)))
    np.testing.assert_allclose(x.grad, 2.0)


def test_backward_grad_argument_must_match_shape():
    x = mg.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3, 2\)"):
        (x * 2.0).backward(np.ones((3, 2)))


def test_no_grad_builds_no_graph():
    x = mg.Tensor(np.ones(3), requires_grad=True)
    with mg.no_grad():
        y = (x * 2.0).exp().sum()
    assert not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()
    assert mg.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = mg.Tensor(np.ones(3), requires_grad=True)
    with mg.no_grad():
        with mg.enable_grad():
            y = (x * 2.0).sum()
    y.backward()
    np.testing.assert_allclose(x.grad, 2.0)


def test_detach_stops_gradient_but_shares_data():
    x = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    d = (x * 2.0).detach()
    assert not d.requires_grad and d.is_leaf
    y = (x * d).sum()
    y.backward()
    np.testing.assert_allclose(x.grad, d.data)  # d treated as a constant


def test_retain_grad_keeps_intermediate_gradient():
    x = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = (x * 3.0).retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad, 2 * h.data)
    np.testing.assert_allclose(x.grad, 3 * 2 * h.data)


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="int64"):
        mg.Tensor(np.arange(3), requires_grad=True)


def test_backward_through_integer_output_is_rejected():
    x = mg.Tensor(np.array([1.5, 2.5]), requires_grad=True)
    y = x.astype(np.int64)  # the cast leaves the graph: an integer result holds no grad
    assert not y.requires_grad
    with pytest.raises(TypeError, match="backward.*dtype int64"):
        y.sum().backward()


def test_multi_output_function_gets_zeros_for_unused_outputs():
    class SplitHalves(mg.Function):
        @staticmethod
        def forward(ctx, x):
            half = x.shape[0] // 2
            return x[:half].copy(), x[half:].copy()

        @staticmethod
        def backward(ctx, grads):
            g_low, g_high = grads
            return (np.concatenate([g_low, g_high]),)

    x = mg.Tensor(np.arange(4.0), requires_grad=True)
    low, high = SplitHalves.apply(x)
    (low * 5.0).sum().backward()
    np.testing.assert_allclose(x.grad, [5.0, 5.0, 0.0, 0.0])


def test_function_returning_wrong_gradient_shape_is_reported():
    class Broken(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return (grad.sum(),)

    x = mg.Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Broken.backward.*shape \(\).*shape \(3,\)"):
        Broken.apply(x).sum().backward()


def test_function_skips_recording_when_no_input_requires_grad():
    class Double(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return (grad * 2,)

    out = Double.apply(mg.Tensor(np.ones(2)))
    assert out.is_leaf and not out.requires_grad
    np.testing.assert_array_equal(out.data, [2.0, 2.0])


@pytest.mark.parametrize("context", ["no_grad", "constants_only"])
def test_unrecorded_forward_is_told_no_gradient_is_needed(context):
    seen = []

    class Probe(mg.Function):
        @staticmethod
        def forward(ctx, a, b):
            seen.append(ctx.needs_grad)
            return a + b

    weight = mg.Tensor(np.ones(2), requires_grad=context == "no_grad")
    if context == "no_grad":
        with mg.no_grad():
            Probe.apply(np.ones(2), weight)
    else:
        Probe.apply(np.ones(2), weight)
    Probe.apply(np.ones(2), mg.Tensor(np.ones(2), requires_grad=True))
    assert seen == [(False, False), (False, True)]


# ------------------------------------------- a leaf's first gradient: taken or copied
def _pair_returning(make_grad):
    """A Function y = 2x whose backward returns ``make_grad(dout)``."""
    return mg.Function.from_pair(lambda x: (2 * x, None), lambda dout, cache: make_grad(dout), name="Twice")


def test_leaf_takes_a_gradient_nothing_else_holds():
    made = []

    def fresh(dout):
        made.append(id(g := 2 * dout))  # only the id: the list must not hold the array
        return g

    x = mg.Tensor(np.ones((3, 4)), requires_grad=True)
    _pair_returning(fresh).apply(x).backward(np.ones((3, 4)))
    assert id(x.grad) == made[0]  # no copy
    np.testing.assert_array_equal(x.grad, 2.0)


@pytest.mark.parametrize("kept", ["array", "view", "base"])
def test_leaf_copies_a_gradient_something_else_can_reach(kept):
    # The backward keeps the gradient it returns, a view of it, or the array
    # it is a reshape of: .grad must not share that memory.
    keep = []

    def shared(dout):
        g = (2 * dout).reshape(-1).reshape(dout.shape) if kept == "base" else 2 * dout
        keep.append({"array": g, "view": g[1:], "base": g.base}[kept])
        return g

    x = mg.Tensor(np.ones((3, 4)), requires_grad=True)
    _pair_returning(shared).apply(x).backward(np.ones((3, 4)))
    assert not np.shares_memory(x.grad, keep[0])
    x.grad += 1.0
    np.testing.assert_array_equal(keep[0], 2.0)


def test_one_gradient_for_two_leaves_is_not_shared():
    # Add hands its upstream gradient to both inputs; and a backward may return
    # one fresh array for two inputs.
    a, b = (mg.Tensor(np.ones(3), requires_grad=True) for _ in range(2))
    (a + b).backward(np.full(3, 2.0))
    assert not np.shares_memory(a.grad, b.grad)
    Both = mg.Function.from_pair(lambda x, y: (x + y, None), lambda dout, cache: (g := 3 * dout, g),
                                 name="Both")
    c, d = (mg.Tensor(np.ones(3), requires_grad=True) for _ in range(2))
    Both.apply(c, d).backward(np.ones(3))
    assert not np.shares_memory(c.grad, d.grad)
    c.grad += 1.0
    np.testing.assert_array_equal(d.grad, 3.0)


def test_taken_gradient_accumulates_in_place_on_later_calls():
    x = mg.Tensor(np.ones(4), requires_grad=True)
    for _ in range(3):
        (x * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad, 6.0)
