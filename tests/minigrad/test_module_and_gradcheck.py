"""Module/Parameter discovery and state dicts; the gradcheck tools themselves."""
import numpy as np
import pytest

import minigrad as mg


class Block(mg.Module):
    def __init__(self, n):
        super().__init__()
        self.weight = mg.Parameter(np.full((n, n), 0.5))
        self.register_buffer("running_mean", np.zeros(n))

    def forward(self, x):
        return x @ self.weight


class Net(mg.Module):
    def __init__(self):
        super().__init__()
        self.blocks = [Block(2), Block(2)]
        self.head = {"out": Block(2)}
        self.scale = mg.Parameter(np.array(2.0))
        self.shared = self.scale  # the same Parameter twice is listed once

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head["out"](x) * self.scale


def test_parameters_found_by_attribute_walk():
    names = [name for name, _ in Net().named_parameters()]
    assert names == ["scale", "blocks.0.weight", "blocks.1.weight", "head.out.weight"]


def test_train_and_eval_reach_every_submodule():
    net = Net()
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_state_dict_round_trip_restores_outputs():
    net, other = Net(), Net()
    rng = np.random.default_rng(0)
    for p in net.parameters():
        p.data = rng.standard_normal(p.shape)
    net.blocks[1].running_mean[:] = [1.0, 2.0]
    state = net.state_dict()
    assert set(state) == {"scale", "blocks.0.weight", "blocks.1.weight", "head.out.weight",
                          "blocks.0.running_mean", "blocks.1.running_mean", "head.out.running_mean"}
    other.load_state_dict(state)
    x = mg.Tensor(rng.standard_normal((3, 2)))
    np.testing.assert_array_equal(net(x).data, other(x).data)
    np.testing.assert_array_equal(other.blocks[1].running_mean, [1.0, 2.0])
    state["scale"][...] = 99.0  # the state dict holds copies, not views
    assert net.scale.data != 99.0


def test_load_state_dict_rejects_shape_mismatch_without_partial_update():
    net = Net()
    state = net.state_dict()
    before = net.blocks[0].weight.data.copy()
    state["blocks.0.weight"] = np.ones((2, 2)) * 7
    state["head.out.weight"] = np.ones((3, 2))
    with pytest.raises(ValueError, match=r"head.out.weight.*\(2, 2\).*\(3, 2\)"):
        net.load_state_dict(state)
    np.testing.assert_array_equal(net.blocks[0].weight.data, before)


def test_load_state_dict_strict_reports_missing_and_unexpected():
    state = Net().state_dict()
    del state["scale"]
    state["extra"] = np.zeros(1)
    with pytest.raises(KeyError, match=r"missing keys \['scale'\].*unexpected keys \['extra'\]"):
        Net().load_state_dict(state)
    Net().load_state_dict(state, strict=False)


def test_zero_grad_clears_every_parameter():
    net = Net()
    net(mg.Tensor(np.ones((1, 2)))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_numerical_gradient_of_known_function():
    x = np.array([1.0, -2.0, 0.5])
    grad = mg.numerical_gradient(lambda v: v ** 3, x, np.ones(3))
    np.testing.assert_allclose(grad, 3 * x ** 2, rtol=1e-8)
    np.testing.assert_array_equal(x, [1.0, -2.0, 0.5])  # restored after probing


def test_rel_error_is_cs231n_definition():
    assert mg.rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert mg.rel_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    assert mg.rel_error(np.array([0.0]), np.array([0.0])) == 0.0


def test_gradcheck_catches_a_wrong_backward_and_names_the_element():
    class WrongSquare(mg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved
            wrong = 2 * x * grad
            wrong[1] *= 1.01  # one element off by 1 %
            return (wrong,)

    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(mg.GradcheckError, match=r"input 0.*worst element \(1,\)"):
        mg.gradcheck(WrongSquare.apply, x)


def test_gradcheck_allows_round_off_but_catches_errors_above_it():
    # A large constant in the output puts the central differences' round-off
    # (~eps * 1e3 / h = 2e-8) far above 1e-7 of the true slope 1e-4 ...
    x = np.array([0.5, -1.0, 2.0])
    mg.gradcheck(lambda a: a * 1e-4 + 1e3, x)

    class SlightlyWrongScale(mg.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1e-4 + 1e3

        @staticmethod
        def backward(ctx, grad):
            return (grad * 1.01e-4,)  # ... but an error of 1e-6 is far above it

    with pytest.raises(mg.GradcheckError, match=r"input 0"):
        mg.gradcheck(SlightlyWrongScale.apply, x)


def test_gradcheck_checks_in_float64_even_for_float32_inputs():
    x = mg.Tensor(np.array([0.3, 0.7], dtype=np.float32), requires_grad=True)
    errors = mg.gradcheck(lambda a: (a * a).tanh(), x)
    assert errors[0] < 1e-9


def test_gradcheck_skips_inputs_that_do_not_require_grad():
    a = mg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = mg.Tensor(np.array([3.0, 4.0]))
    assert len(mg.gradcheck(lambda u, v: u * v, a, b)) == 1


def test_gradcheck_fails_when_the_backward_returns_nan():
    class NanGrad(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return 2 * x

        @staticmethod
        def backward(ctx, grad):
            return (np.full_like(grad, np.nan),)

    x = mg.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(mg.GradcheckError, match=r"relative error nan.*worst element \(0, 0\): analytic nan, numerical"):
        mg.gradcheck(NanGrad.apply, x)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_gradcheck_refuses_a_non_finite_point(bad):
    x = mg.Tensor(np.array([1.0, bad]), requires_grad=True)
    with pytest.raises(ValueError, match="gradcheck: input 0 must be finite"):
        mg.gradcheck(lambda t: t * 2, x)
