"""Twin of ``python -m assignments run style_transfer``: the same optimisation in PyTorch.

The same images (read by the script's ``load_image``), the same extractor (the
script's random filters copied into ``torch.nn.Conv2d``s), the same losses and
targets, the same optimiser: L-BFGS-B through the script's ``run_lbfgs`` (one
``scipy.optimize.minimize`` call, the gradient from torch's backward) or
``torch.optim.Adam`` with the pixels clamped to [0, 1]. ``python -m
benchmarks.twins.style_transfer [--optimizer lbfgs] [--threads 2] [--quick]``
prints the final losses of the transfer and the texture and the wall time.
"""
import argparse
import time

import numpy as np

from assignments import style_transfer as st

from .common import setup


def build(torch, extractor):
    """A torch module with ``extractor``'s filters (a ``RandomFeatures``); ``forward`` returns the
    list of feature maps, in the dtype of the filters."""
    nn = torch.nn

    class RandomFeatures(nn.Module):
        def __init__(self):
            super().__init__()
            self.convs = nn.ModuleList()
            for conv in extractor.convs:
                weight = torch.from_numpy(conv.weight.data.copy())
                layer = nn.Conv2d(weight.shape[1], weight.shape[0], 3, padding=1, bias=False).to(weight.dtype)
                with torch.no_grad():
                    layer.weight.copy_(weight)
                layer.weight.requires_grad_(False)
                self.convs.append(layer)

        def forward(self, x):
            features, h = [], x - 0.5
            for k, conv in enumerate(self.convs):
                h = torch.relu(conv(nn.functional.avg_pool2d(h, 2) if k else h))
                features.append(h)
            return features

    return RandomFeatures()


def gram(torch, f):
    n, c, h, w = f.shape
    flat = f.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


def losses(torch, model, image, targets, tv_weight):
    """The script's ``losses`` in torch: ``(total tensor, parts)`` for ``targets`` (a script ``Targets``)."""
    features = model(image)
    total = sum(weight * ((gram(torch, f) - torch.from_numpy(g)) ** 2).sum()
                for f, g, weight in zip(features, targets.grams, targets.style_weights))
    parts = {"style": total.item(), "content": 0.0, "tv": 0.0}
    if targets.content is not None:
        term = targets.content_weight * ((features[st.CONTENT_LAYER] - torch.from_numpy(targets.content)) ** 2).sum()
        parts["content"] = term.item()
        total = total + term
    if tv_weight > 0:
        term = tv_weight * (((image[:, :, 1:] - image[:, :, :-1]) ** 2).sum()
                            + ((image[:, :, :, 1:] - image[:, :, :, :-1]) ** 2).sum())
        parts["tv"] = term.item()
        total = total + term
    return total, parts


def objective(torch, model, targets, shape, tv_weight, dtype=np.float32):
    """The script's ``objective`` with torch's forward and backward."""
    def fun(x):
        image = torch.from_numpy(x.reshape((1,) + tuple(shape)).astype(dtype)).requires_grad_(True)
        total, parts = losses(torch, model, image, targets, tv_weight)
        total.backward()
        fun.last = (x.copy(), parts)
        return float(total.item()), image.grad.numpy().astype(np.float64).ravel()

    fun.last = None
    return fun


def run_adam(torch, model, targets, start, iterations, lr, tv_weight):
    """The script's ``run_adam``: torch's Adam, pixels clamped to [0, 1] after each step."""
    image = torch.from_numpy(start[None].copy()).requires_grad_(True)
    optimizer = torch.optim.Adam([image], lr=lr)
    history = []
    for _ in range(iterations):
        total, parts = losses(torch, model, image, targets, tv_weight)
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        with torch.no_grad():
            image.clamp_(0.0, 1.0)
        history.append(parts)
    with torch.no_grad():
        history.append(losses(torch, model, image, targets, tv_weight)[1])
    return image.detach().numpy()[0], history


def main():
    options = st.OPTIONS
    parser = argparse.ArgumentParser(prog="python -m benchmarks.twins.style_transfer")
    parser.add_argument("--optimizer", choices=("lbfgs", "adam"), default=options["optimizer"])
    parser.add_argument("--size", type=int, default=options["size"])
    parser.add_argument("--iterations", type=int, default=options["iterations"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="the script's --quick size and iterations")
    args = parser.parse_args()
    args.adam_lr, args.tv_weight = options["adam_lr"], options["tv_weight"]
    st.settle_quick(args)
    torch = setup(args.threads, args.seed)
    content, style = st.load_image(options["content"], args.size), st.load_image(options["style"], args.size)
    extractor = st.RandomFeatures()
    model = build(torch, extractor)
    noise = np.random.default_rng(args.seed).random(content.shape).astype(np.float32)
    start = time.perf_counter()
    runs = (("transfer", st.Targets(extractor, style, content, options["content_weight"]), content),
            ("texture", st.Targets(extractor, style), noise))
    for name, targets, begin in runs:
        tic = time.perf_counter()
        if args.optimizer == "lbfgs":
            fun = objective(torch, model, targets, begin.shape, args.tv_weight)
            _, history = st.run_lbfgs(fun, begin, args.iterations, name)
        else:
            _, history = run_adam(torch, model, targets, begin, args.iterations, args.adam_lr, args.tv_weight)
        final = history[-1]
        print(f"{name}: style {final['style']:.5g}, content {final['content']:.5g}, tv {final['tv']:.4g}, "
              f"{len(history) - 1} iterations, {time.perf_counter() - tic:.1f} s")
    print(f"wall {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
