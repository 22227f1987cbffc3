import numpy as np
import pytest

import minigrad as mg
from layers.activations import ReLU
from layers.affine import Linear
from layers.container import Flatten, Sequential
from layers.dropout import Dropout
from tests.conftest import assert_close


def test_sequential_matches_torch_with_copied_state(torch, rng):
    ours = Sequential(Flatten(), Linear(12, 6, rng=0, dtype=np.float64), ReLU(), Linear(6, 3, rng=1, dtype=np.float64))
    ref = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
    assert list(ours.state_dict()) == list(ref.state_dict())
    ref.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = rng.standard_normal((4, 3, 2, 2))
    xt = mg.Tensor(x, requires_grad=True)
    ours(xt).sum().backward()
    xr = torch.tensor(x, requires_grad=True)
    ref(xr).sum().backward()
    assert_close(xt.grad, xr.grad.numpy(), 1e-12, "dx")
    assert_close(ours[1].weight.grad, ref[1].weight.grad.numpy(), 1e-12, "dW")


def test_indexing_iteration_and_modes():
    layers = [Linear(3, 3, rng=i) for i in range(3)] + [Dropout(0.5)]
    seq = Sequential(*layers)
    assert len(seq) == 4 and list(seq) == layers and seq[-1] is layers[-1]
    head = seq[:2]
    assert isinstance(head, Sequential) and list(head) == layers[:2] and head[0] is layers[0]
    seq.eval()
    assert not layers[-1].training
    with pytest.raises(IndexError, match="Sequential: index 4 out of range for 4 modules"):
        seq[4]
    with pytest.raises(TypeError, match="^Sequential: module must be a Module, got function"):
        Sequential(lambda x: x)
    for bad in ("a", 0.0, None, True):
        with pytest.raises(TypeError, match="^Sequential: index must be an integer, got"):
            seq[bad]
    assert seq[np.int64(1)] is layers[1]


def test_flatten_refuses_what_has_no_shape():
    with pytest.raises(TypeError, match="^Flatten: x must be a Tensor or an ndarray, got list"):
        Flatten()([[1.0, 2.0], [3.0, 4.0]])
    assert Flatten()(np.zeros((2, 3, 4))).shape == (2, 12)


def test_flatten_ranges():
    x = mg.Tensor(np.zeros((2, 3, 4, 5)))
    assert Flatten()(x).shape == (2, 60)
    assert Flatten(0, 1)(x).shape == (6, 4, 5)
    assert Flatten(-2)(x).shape == (2, 3, 20)
    with pytest.raises(ValueError, match=r"Flatten: cannot flatten dims 2..1 of x with shape \(2, 3, 4, 5\)"):
        Flatten(2, 1)(x)
