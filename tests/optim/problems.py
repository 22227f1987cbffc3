"""Two small training problems, written twice (minigrad and PyTorch) from the same arrays.

``quadratic``: ``0.5 * sum(W * (A @ W)) - sum(B * W)`` with A symmetric positive
definite of condition number 100 (an ill-conditioned bowl).
``mlp``: a 5-8-3 tanh network with softmax cross-entropy on 32 random points.
Both sides compute gradients with their own autograd, so a trajectory test
covers the whole step, not just the update formula.
"""
import numpy as np

import minigrad as mg


def quadratic(seed=0, n=6):
    """Return ``(initial params, mg loss fn, torch loss fn factory)`` for the bowl."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = (q * np.logspace(0, 2, n)) @ q.T
    A = (A + A.T) / 2
    B = rng.standard_normal((n, 2))
    init = [rng.standard_normal((n, 2))]

    def mg_loss(params):
        (W,) = params
        return 0.5 * (W * (mg.Tensor(A) @ W)).sum() - (mg.Tensor(B) * W).sum()

    def torch_loss(torch):
        At, Bt = torch.tensor(A), torch.tensor(B)
        return lambda params: 0.5 * (params[0] * (At @ params[0])).sum() - (Bt * params[0]).sum()

    return init, mg_loss, torch_loss


def mlp(seed=0, n=32, d=5, hidden=8, classes=3):
    """Return ``(initial params, mg loss fn, torch loss fn factory)`` for the tanh MLP."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.integers(0, classes, n)
    init = [rng.standard_normal((d, hidden)) / np.sqrt(d), 0.1 * rng.standard_normal(hidden),
            rng.standard_normal((hidden, classes)) / np.sqrt(hidden), np.zeros(classes)]
    rows = np.arange(n)

    def mg_loss(params):
        W1, b1, W2, b2 = params
        scores = (mg.Tensor(X) @ W1 + b1).tanh() @ W2 + b2
        return -scores.log_softmax(axis=1)[rows, y].mean()

    def torch_loss(torch):
        Xt, yt, rt = torch.tensor(X), torch.tensor(y), torch.tensor(rows)

        def loss(params):
            W1, b1, W2, b2 = params
            scores = torch.tanh(Xt @ W1 + b1) @ W2 + b2
            return -torch.log_softmax(scores, dim=1)[rt, yt].mean()

        return loss

    return init, mg_loss, torch_loss


PROBLEMS = {"quadratic": quadratic, "mlp": mlp}


def run_minigrad(problem, make_optimizer, steps, make_schedule=None, seed=0):
    """Train with minigrad; return the list of parameter arrays after every step."""
    init, loss_fn, _ = PROBLEMS[problem](seed)
    params = [mg.Parameter(np.array(a, dtype=np.float64)) for a in init]
    opt = make_optimizer(params)
    schedule = make_schedule(opt) if make_schedule else None
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(params).backward()
        opt.step()
        if schedule is not None:
            schedule.step()
        trajectory.append(np.concatenate([p.data.ravel() for p in params]))
    return np.array(trajectory)


def run_torch(torch, problem, make_optimizer, steps, make_schedule=None, seed=0):
    """Same as ``run_minigrad`` with ``torch.optim``."""
    init, _, torch_loss = PROBLEMS[problem](seed)
    loss_fn = torch_loss(torch)
    params = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in init]
    opt = make_optimizer(params)
    schedule = make_schedule(opt) if make_schedule else None
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(params).backward()
        opt.step()
        if schedule is not None:
            schedule.step()
        trajectory.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    return np.array(trajectory)
