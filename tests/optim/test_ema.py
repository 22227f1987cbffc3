"""ExponentialMovingAverage: bit for bit against a hand loop and PyTorch's AveragedModel; copies,
swaps, state round trips through a checkpoint, refused arguments."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from layers import Linear, Sequential
from optim import SGD, ExponentialMovingAverage, load_checkpoint, save_checkpoint

decays = st.sampled_from([0.0, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0])
dtypes = st.sampled_from([np.float32, np.float64])


def _model(dtype, seed=0):
    return Sequential(Linear(3, 4, dtype=dtype, rng=seed), Linear(4, 2, dtype=dtype, rng=seed + 1))


def _perturb(model, rng):
    """Change every parameter in place, as an optimizer step would."""
    for p in model.parameters():
        p.data += rng.standard_normal(p.shape).astype(p.dtype)


@given(decay=decays, dtype=dtypes, steps=st.integers(0, 30), seed=st.integers(0, 999))
def test_bit_for_bit_against_a_hand_loop(decay, dtype, steps, seed):
    rng = np.random.default_rng(seed)
    model = _model(dtype, seed)
    ema = ExponentialMovingAverage(model, decay)
    expected = [p.data.copy() for p in model.parameters()]
    for _ in range(steps):
        _perturb(model, rng)
        ema.update()
        expected = [dtype(decay) * a + dtype(1 - decay) * p.data for a, p in zip(expected, model.parameters())]
    assert ema.num_updates == steps
    for average, want, p in zip(ema.shadow, expected, model.parameters()):
        assert average.dtype == dtype
        np.testing.assert_array_equal(average, want)


@given(decay=decays, dtype=dtypes, steps=st.integers(1, 30), seed=st.integers(0, 999))
def test_bit_for_bit_against_torch_averaged_model(torch, decay, dtype, steps, seed):
    swa = pytest.importorskip("torch.optim.swa_utils")
    rng = np.random.default_rng(seed)
    model = _model(dtype, seed)
    th_dtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    reference = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)).to(th_dtype)
    with torch.no_grad():
        for (_, p), (_, q) in zip(sorted(model.named_parameters()), sorted(reference.named_parameters())):
            q.copy_(torch.from_numpy(p.data))
    averaged = swa.AveragedModel(reference, avg_fn=swa.get_ema_avg_fn(decay))
    averaged.update_parameters(reference)  # its first call copies, as our constructor does
    ema = ExponentialMovingAverage(model, decay)
    for _ in range(steps):
        _perturb(model, rng)
        with torch.no_grad():
            for (_, p), (_, q) in zip(sorted(model.named_parameters()), sorted(reference.named_parameters())):
                q.copy_(torch.from_numpy(p.data))
        ema.update()
        averaged.update_parameters(reference)
    ours = dict(zip((name for name, _ in model.named_parameters()), ema.shadow))
    for (name, _), (_, q) in zip(sorted(model.named_parameters()), sorted(averaged.module.named_parameters())):
        np.testing.assert_array_equal(ours[name], q.detach().numpy(), err_msg=name)


def test_manual_torch_momentum_update_in_float32(torch):
    # MoCo's key encoder, written the way its paper's pseudo-code reads.
    rng = np.random.default_rng(3)
    query = [mg.Parameter(rng.standard_normal((5, 6)).astype(np.float32))]
    key = torch.tensor(query[0].data.copy())
    ema = ExponentialMovingAverage(query, decay=0.99)
    for _ in range(50):
        query[0].data -= 0.1 * rng.standard_normal((5, 6)).astype(np.float32)
        ema.update()
        key = 0.99 * key + (1 - 0.99) * torch.tensor(query[0].data)
    assert key.dtype == torch.float32
    np.testing.assert_array_equal(ema.shadow[0], key.numpy())


def test_copy_to_and_swapped_in():
    rng = np.random.default_rng(0)
    model, other = _model(np.float64, 0), _model(np.float64, 7)
    ema = ExponentialMovingAverage(model, 0.9)
    for _ in range(5):
        _perturb(model, rng)
        ema.update()
    live = [p.data.copy() for p in model.parameters()]
    x = rng.standard_normal((2, 3))
    with ema.swapped_in():
        for p, average in zip(model.parameters(), ema.shadow):
            np.testing.assert_array_equal(p.data, average)
        swapped_output = model(x).data
    for p, value in zip(model.parameters(), live):
        np.testing.assert_array_equal(p.data, value)
    # A second model of the same structure (MoCo's key encoder) takes the averages ...
    ema.copy_to(other)
    np.testing.assert_array_equal(other(x).data, swapped_output)
    # ... and the live weights come back even when the block raises.
    with pytest.raises(RuntimeError, match="boom"):
        with ema.swapped_in(model):
            raise RuntimeError("boom")
    for p, value in zip(model.parameters(), live):
        np.testing.assert_array_equal(p.data, value)
    # copy_to() with no target writes the averages into the tracked parameters.
    ema.copy_to()
    for p, average in zip(model.parameters(), ema.shadow):
        np.testing.assert_array_equal(p.data, average)


def test_follows_parameters_that_an_optimizer_updates():
    model = _model(np.float32, 0)
    opt = SGD(model.parameters(), lr=0.1)
    ema = ExponentialMovingAverage(model.parameters(), decay=0.5)
    x = np.ones((4, 3), np.float32)
    for _ in range(3):
        opt.zero_grad()
        model(x).sum().backward()
        before = [a.copy() for a in ema.shadow]
        opt.step()
        ema.update()
        for a, b, p in zip(ema.shadow, before, model.parameters()):
            np.testing.assert_array_equal(a, np.float32(0.5) * b + np.float32(0.5) * p.data)


def test_state_dict_round_trip_through_a_checkpoint(tmp_path):
    rng = np.random.default_rng(1)
    model = _model(np.float32, 0)
    ema = ExponentialMovingAverage(model, 0.95)
    for _ in range(4):
        _perturb(model, rng)
        ema.update()
    save_checkpoint(tmp_path / "ema.npz", {"ema": ema.state_dict()})
    restored = ExponentialMovingAverage(_model(np.float32, 5), 0.5)
    restored.load_state_dict(load_checkpoint(tmp_path / "ema.npz")["ema"])
    assert restored.decay == 0.95 and restored.num_updates == 4
    for a, b in zip(restored.shadow, ema.shadow):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b)
    # The two continue identically.
    ema.update()
    restored.params = ema.params
    restored.update()
    for a, b in zip(restored.shadow, ema.shadow):
        np.testing.assert_array_equal(a, b)
    # state_dict returns copies.
    state = ema.state_dict()
    state["shadow"][0][...] = 123
    assert not np.any(ema.shadow[0] == 123)


def test_refused_arguments_and_states():
    model = _model(np.float64)
    p = model.parameters()[0]
    with pytest.raises(TypeError, match=r"ExponentialMovingAverage: params must be a Module or an iterable of "
                                        r"Parameters, got a single Parameter \(wrap it in a list\)"):
        ExponentialMovingAverage(p)
    with pytest.raises(TypeError, match=r"ExponentialMovingAverage: params\[1\] must be a Parameter, got ndarray"):
        ExponentialMovingAverage([p, np.ones(3)])
    with pytest.raises(ValueError, match="ExponentialMovingAverage: params must list each parameter once"):
        ExponentialMovingAverage([p, p])
    with pytest.raises(ValueError, match="ExponentialMovingAverage: params must hold at least one Parameter"):
        ExponentialMovingAverage([])
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"ExponentialMovingAverage: decay must be in \[0, 1\]"):
            ExponentialMovingAverage(model, bad)
    ema = ExponentialMovingAverage(model, 0.9)
    with pytest.raises(ValueError, match=r"ExponentialMovingAverage.copy_to: target must have 4 parameters, "
                                         r"one per average, got 2"):
        ema.copy_to(Linear(3, 4, dtype=np.float64))
    with pytest.raises(ValueError, match=r"ExponentialMovingAverage.swapped_in: target parameter 0 must have "
                                         r"shape \(4, 3\) and dtype float64, got \(4, 3\) float32"):
        with ema.swapped_in(_model(np.float32)):
            pass
    state = ema.state_dict()
    with pytest.raises(ValueError, match=r"load_state_dict: shadow\[1\] must have shape \(4,\), got \(3,\)"):
        ema.load_state_dict({**state, "shadow": [state["shadow"][0], np.zeros(3)] + state["shadow"][2:]})
    with pytest.raises(ValueError, match="load_state_dict: shadow must be a list of 4 arrays, got 3"):
        ema.load_state_dict({**state, "shadow": state["shadow"][:3]})
    with pytest.raises(ValueError, match="load_state_dict: state must be a dict with 'decay'"):
        ema.load_state_dict({"shadow": state["shadow"]})
    with pytest.raises(ValueError, match=r"load_state_dict: decay must be in \[0, 1\], got 2.0"):
        ema.load_state_dict({**state, "decay": 2.0})
    np.testing.assert_array_equal(ema.shadow[1], state["shadow"][1])  # nothing changed
    assert ema.decay == 0.9
