"""Twin of ``python -m assignments run resnet``: the same ResNet and plain network in torch.nn.

``python -m benchmarks.twins.resnet [--epochs 10] [--quick]`` prints each variant's test
accuracy and training time.
"""
import argparse
import time

from assignments import resnet
from assignments.data import load_mnist5k

from .common import Shift, accuracy, setup, train


def build(torch, in_channels, num_classes, shortcuts, depth=resnet.OPTIONS["depth"]):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
            self.conv2, self.bn2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
            self.shortcut = shortcuts
            self.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                               if shortcuts and (stride != 1 or cin != cout) else None)

        def forward(self, x):
            out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
            if self.shortcut:
                out = out + (x if self.downsample is None else self.downsample(x))
            return torch.relu(out)

    layers, channels = [], resnet.WIDTHS[0]
    for stage, width in enumerate(resnet.WIDTHS):
        for i in range(depth):
            layers.append(Block(channels, width, 2 if stage > 0 and i == 0 else 1))
            channels = width
    return nn.Sequential(nn.Conv2d(in_channels, resnet.WIDTHS[0], 3, 1, 1, bias=False),
                         nn.BatchNorm2d(resnet.WIDTHS[0]), nn.ReLU(), *layers,
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes))


def main():
    defaults = resnet.DEFAULTS
    parser = argparse.ArgumentParser(prog="python -m benchmarks.twins.resnet")
    parser.add_argument("--epochs", type=int, default=defaults["epochs"])
    parser.add_argument("--depth", type=int, default=resnet.OPTIONS["depth"], help="basic blocks per stage")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch = setup(args.threads, args.seed)
    data = load_mnist5k()
    start = time.perf_counter()
    for name, shortcuts in resnet.VARIANTS.items():
        model = build(torch, data.image_shape[0], data.num_classes, shortcuts, args.depth)
        model, history, seconds = train(torch, model, data, args.epochs, defaults["batch_size"], defaults["lr"],
                                        args.seed, Shift(torch, resnet.OPTIONS["shift"], args.seed))
        print(f"{name}: test accuracy {accuracy(torch, model, data.X_test, data.y_test):.2%}, "
              f"training {seconds:.1f} s, validation accuracy per epoch {history['val_acc']}")
    print(f"wall {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
