"""Residual blocks, the squeeze-and-excitation gate, ResNet and adaptive average pooling,
held against the same networks built from PyTorch modules with the same weights."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from layers import AdaptiveAvgPool2d, BasicBlock, Bottleneck, ResNet, SqueezeExcitation, adaptive_avg_pool2d
from tests.conftest import assert_close, assert_grads_match


# ----------------------------------------------------------------------- PyTorch twins
def _torch_twins(torch):
    nn = torch.nn

    class SE(nn.Module):
        def __init__(self, channels, squeeze):
            super().__init__()
            self.avgpool, self.fc1, self.fc2 = nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, squeeze, 1), \
                nn.Conv2d(squeeze, channels, 1)

        def forward(self, x):
            return x * torch.sigmoid(self.fc2(torch.relu(self.fc1(self.avgpool(x)))))

    def bn(c):
        return nn.BatchNorm2d(c, dtype=torch.float64)

    class Block(nn.Module):
        """torchvision's BasicBlock/Bottleneck, written out (torchvision cannot be loaded here)."""

        def __init__(self, ours):
            super().__init__()
            self.bottleneck = isinstance(ours, Bottleneck)
            cin, c, cout, stride = ours.in_channels, ours.channels, ours.out_channels, ours.stride
            if self.bottleneck:
                self.conv1, self.bn1 = nn.Conv2d(cin, c, 1, bias=False), bn(c)
                self.conv2, self.bn2 = nn.Conv2d(c, c, 3, stride, 1, bias=False), bn(c)
                self.conv3, self.bn3 = nn.Conv2d(c, cout, 1, bias=False), bn(cout)
            else:
                self.conv1, self.bn1 = nn.Conv2d(cin, c, 3, stride, 1, bias=False), bn(c)
                self.conv2, self.bn2 = nn.Conv2d(c, c, 3, 1, 1, bias=False), bn(c)
            self.se = None if ours.se is None else SE(cout, ours.se.fc1.weight.shape[0])
            self.shortcut = ours.shortcut
            self.downsample = None if ours.downsample is None else nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), bn(cout))

        def forward(self, x):
            out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
            if self.bottleneck:
                out = self.bn3(self.conv3(torch.relu(out)))
            if self.se is not None:
                out = self.se(out)
            if self.shortcut:
                out = out + (x if self.downsample is None else self.downsample(x))
            return torch.relu(out)

    return SE, Block


def _copy_weights(torch, ours, theirs):
    """Load our state dict into the twin: the parameter names are the same."""
    state = {k: torch.tensor(v) for k, v in ours.state_dict().items()}
    missing, unexpected = theirs.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)


def _assert_module_matches(torch, ours, theirs, x, atol=1e-10):
    """Same output and same input and parameter gradients in training mode (batch statistics)."""
    _copy_weights(torch, ours, theirs.double())
    ours.train()
    theirs.train()
    xt = mg.Tensor(x, requires_grad=True)
    out = ours(xt)
    x_ref = torch.tensor(x, requires_grad=True)
    ref = theirs(x_ref)
    assert_close(out.data, ref.detach().numpy(), atol, "forward")
    dout = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(dout)
    ref.backward(torch.tensor(dout))
    assert_close(xt.grad, x_ref.grad.numpy(), atol, "input gradient")
    grads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(p.grad, grads[name].grad.numpy(), atol, f"gradient of {name}")
    # The running statistics moved the same way.
    for name, buffer in ours.named_buffers():
        assert_close(buffer, theirs.state_dict()[name].numpy(), atol, name)


@settings(max_examples=10)
@given(kind=st.sampled_from(["basic", "bottleneck"]), cin=st.integers(1, 8), channels=st.integers(1, 4),
       stride=st.integers(1, 2), se=st.sampled_from([None, 2]), shortcut=st.booleans(), size=st.integers(3, 7),
       seed=st.integers(0, 99))
def test_blocks_match_torch(torch, kind, cin, channels, stride, se, shortcut, size, seed):
    _, Block = _torch_twins(torch)
    block_class = BasicBlock if kind == "basic" else Bottleneck
    ours = block_class(cin, channels, stride, se_reduction=se, shortcut=shortcut, rng=seed, dtype=np.float64)
    x = np.random.default_rng(seed).standard_normal((2, cin, size, size + 1))
    _assert_module_matches(torch, ours, Block(ours), x)
    assert ours(mg.Tensor(x)).shape == (2, ours.out_channels, -(-size // stride), -(-(size + 1) // stride))


def test_projection_shortcut_only_where_shapes_change():
    assert BasicBlock(8, 8).downsample is None
    assert BasicBlock(8, 16).downsample is not None and BasicBlock(8, 8, stride=2).downsample is not None
    assert Bottleneck(16, 4).downsample is None and Bottleneck(8, 4).downsample is not None
    assert BasicBlock(8, 16, shortcut=False).downsample is None


def test_squeeze_excitation_matches_torch(torch):
    SE, _ = _torch_twins(torch)
    ours = SqueezeExcitation(6, 3, rng=0, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((2, 6, 4, 5))
    _assert_module_matches(torch, ours, SE(6, 3), x)


def test_resnet_matches_a_torch_twin_and_counts_its_parameters(torch):
    _, Block = _torch_twins(torch)
    nn = torch.nn
    ours = ResNet(1, 10, widths=(4, 8), depths=(2, 1), se_reduction=2, rng=0, dtype=np.float64)

    class Twin(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(1, 4, 3, 1, 1, bias=False), nn.BatchNorm2d(4))
            self.layers = nn.Sequential(*(Block(b) for b in ours.layers))
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))

        def forward(self, x):
            return self.head(self.layers(torch.relu(self.stem(x))))

    x = np.random.default_rng(0).standard_normal((3, 1, 8, 8))
    twin = Twin()
    _assert_module_matches(torch, ours, twin, x)
    assert sum(p.size for p in ours.parameters()) == sum(p.numel() for p in twin.parameters())


def test_plain_network_has_the_same_layers_without_shortcuts():
    plain = ResNet(1, 10, shortcuts=False)
    residual = ResNet(1, 10)
    assert all(not b.shortcut and b.downsample is None for b in plain.layers)
    projections = sum(p.size for b in residual.layers if b.downsample is not None for p in b.downsample.parameters())
    assert sum(p.size for p in residual.parameters()) - sum(p.size for p in plain.parameters()) == projections


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(widths=(8, 16), depths=(2,)), ValueError, r"widths and depths must have the same length"),
    (dict(block="wide"), ValueError, r"block must be one of"),
    (dict(depths=(2, 0, 2)), ValueError, r"depths\[1\] must be"),
    (dict(num_classes=0), ValueError, r"num_classes must be"),
])
def test_resnet_rejects_bad_configurations(kwargs, error, match):
    options = dict(in_channels=1, num_classes=10) | kwargs
    with pytest.raises(error, match=rf"^ResNet: {match}"):
        ResNet(**options)


def test_blocks_reject_bad_arguments():
    with pytest.raises(ValueError, match=r"^BasicBlock: stride must be"):
        BasicBlock(4, 4, stride=0)
    with pytest.raises(TypeError, match=r"^Bottleneck: shortcut must be"):
        Bottleneck(4, 4, shortcut="yes")
    with pytest.raises(ValueError, match=r"^SqueezeExcitation: squeeze_channels must be"):
        SqueezeExcitation(4, 0)


# ----------------------------------------------------------------- adaptive average pooling
@given(h=st.integers(1, 9), w=st.integers(1, 9), oh=st.integers(1, 10), ow=st.integers(1, 10),
       seed=st.integers(0, 999))
def test_adaptive_avg_pool_matches_torch_and_gradcheck(torch, h, w, oh, ow, seed):
    x = np.random.default_rng(seed).standard_normal((2, 3, h, w))
    fn = lambda x: adaptive_avg_pool2d(x, (oh, ow))  # noqa: E731
    assert_grads_match(fn, lambda x: torch.nn.functional.adaptive_avg_pool2d(x, (oh, ow)), [x], torch, atol=1e-12)
    mg.gradcheck(fn, x)


def test_adaptive_avg_pool_of_one_is_the_global_mean():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 7)).astype(np.float32)
    out = AdaptiveAvgPool2d(1)(mg.Tensor(x))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, x.mean(axis=(2, 3), keepdims=True), rtol=1e-6)


def test_adaptive_avg_pool_rejects_bad_sizes():
    with pytest.raises(ValueError, match=r"^AdaptiveAvgPool2d: output_size"):
        AdaptiveAvgPool2d(0)
    with pytest.raises(ValueError, match=r"^adaptive_avg_pool2d: x must be 4-D"):
        adaptive_avg_pool2d(np.zeros((3, 4, 4)), 2)
