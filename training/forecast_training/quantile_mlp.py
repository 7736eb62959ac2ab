"""A small quantile MLP in numpy, trained with the pinball loss.

Why numpy and not PyTorch: the model is 38 -> 128 -> 128 -> 12 with a linear skip, the
gradients fit on one screen, and `make train` then needs numpy + onnx (~60 MB) instead of
a multi-GB torch wheel with CUDA dependencies. The same graph is written to ONNX in
export_onnx.py and checked against `forward` there.

Output head (in units of the series scale s): z [n, H, 3] -> softplus -> cumulative sum
over the quantile axis, so p10 >= 0 and p10 <= p50 <= p90 by construction.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

QUANTILES = (0.1, 0.5, 0.9)


def softplus(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, z)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


@dataclass
class MlpParams:
    mean: np.ndarray
    std: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    w3: np.ndarray
    b3: np.ndarray
    wl: np.ndarray  # linear skip from the standardised input
    horizons: int

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in ("w1", "b1", "w2", "b2", "w3", "b3", "wl")}


def init_params(x: np.ndarray, horizons: int, hidden: int, rng: np.random.Generator) -> MlpParams:
    d = x.shape[1]
    out = horizons * len(QUANTILES)
    mean = x.mean(axis=0).astype(np.float64)
    # Features are built to be O(1) already (docs/features.md); the floor keeps a column
    # that is almost constant in the training window (MarkDowns are NA before 2011-11-11)
    # from being blown up to huge standardised values when it does vary later.
    std = np.maximum(x.std(axis=0).astype(np.float64), 1.0)
    he = lambda fan_in, shape: rng.normal(0, np.sqrt(2.0 / fan_in), shape)
    b3 = np.zeros(out)
    # Start near "p10 = 0.5, p50 = 1, p90 = 1.5 times the scale": softplus^-1 of 0.5.
    b3[:] = np.log(np.expm1(0.5))
    return MlpParams(mean, std, he(d, (d, hidden)), np.zeros(hidden), he(hidden, (hidden, hidden)),
                     np.zeros(hidden), rng.normal(0, 0.01, (hidden, out)), b3, np.zeros((d, out)), horizons)


def forward(p: MlpParams, x: np.ndarray, cache: bool = False):
    xs = (x - p.mean) / p.std
    a1 = xs @ p.w1 + p.b1
    h1 = np.maximum(a1, 0)
    a2 = h1 @ p.w2 + p.b2
    h2 = np.maximum(a2, 0)
    z = (h2 @ p.w3 + p.b3 + xs @ p.wl).reshape(len(x), p.horizons, len(QUANTILES))
    q = np.cumsum(softplus(z), axis=2)
    if cache:
        return q, (xs, a1, h1, a2, h2, z)
    return q


def pinball_loss_and_grads(p: MlpParams, x, target, weight):
    """Weighted mean pinball loss over (row, horizon, quantile) and its parameter gradients."""
    q, (xs, a1, h1, a2, h2, z) = forward(p, x, cache=True)
    tau = np.array(QUANTILES)
    diff = target[:, :, None] - q  # [n,H,3]
    w = weight[:, :, None]
    wsum = weight.sum() + 1e-12
    loss = float((w * np.maximum(tau * diff, (tau - 1) * diff)).sum() / wsum)
    g_q = w * ((diff < 0).astype(np.float64) - tau) / wsum
    # q_k = sum_{j<=k} softplus(z_j): dL/dz_j = sigmoid(z_j) * sum_{k>=j} dL/dq_k.
    g_cum = np.flip(np.cumsum(np.flip(g_q, axis=2), axis=2), axis=2)
    g_z = (g_cum * sigmoid(z)).reshape(len(x), -1)
    grads = {
        "w3": h2.T @ g_z,
        "b3": g_z.sum(axis=0),
        "wl": xs.T @ g_z,
    }
    g_h2 = g_z @ p.w3.T
    g_a2 = g_h2 * (a2 > 0)
    grads["w2"] = h1.T @ g_a2
    grads["b2"] = g_a2.sum(axis=0)
    g_a1 = (g_a2 @ p.w2.T) * (a1 > 0)
    grads["w1"] = xs.T @ g_a1
    grads["b1"] = g_a1.sum(axis=0)
    return loss, grads


@dataclass
class Adam:
    lr: float
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    t: int = 0
    m: dict = field(default_factory=dict)
    v: dict = field(default_factory=dict)

    def step(self, p: MlpParams, grads: dict[str, np.ndarray]) -> None:
        self.t += 1
        for k, g in grads.items():
            w = getattr(p, k)
            if self.weight_decay and k.startswith("w"):
                g = g + self.weight_decay * w
            m = self.m.get(k, np.zeros_like(w)) * self.beta1 + (1 - self.beta1) * g
            v = self.v.get(k, np.zeros_like(w)) * self.beta2 + (1 - self.beta2) * g * g
            self.m[k], self.v[k] = m, v
            mh = m / (1 - self.beta1**self.t)
            vh = v / (1 - self.beta2**self.t)
            setattr(p, k, w - self.lr * mh / (np.sqrt(vh) + self.eps))


def fit(x, target, weight, *, horizons: int, hidden: int, epochs: int, batch: int, lr: float,
        weight_decay: float, seed: int, min_active: float = 0.1, lag_dropout: float = 0.0,
        lag_columns: tuple = tuple(range(8)) + (15,), log=print) -> MlpParams:
    rng = np.random.default_rng(seed)
    lag_columns = list(lag_columns)
    x = x.astype(np.float64)
    target = target.astype(np.float64)
    weight = weight.astype(np.float64)
    p = init_params(x, horizons, hidden, rng)
    # A feature that is almost always 0 in the training window (the honest model sees no
    # MarkDowns: they start 2011-11-11) has an effect that can only be guessed, and a
    # guess extrapolates badly. Freeze its input weights at 0 instead.
    active = (np.abs(x) > 1e-9).mean(axis=0) >= min_active
    p.w1[~active] = 0.0
    p.wl[~active] = 0.0
    log(f"inactive features: {np.flatnonzero(~active).tolist()}")
    opt = Adam(lr=lr, weight_decay=weight_decay)
    n = len(x)
    steps_per_epoch = max(1, n // batch)
    total = epochs * steps_per_epoch
    for epoch in range(epochs):
        order = rng.permutation(n)
        losses = []
        for s in range(steps_per_epoch):
            # Cosine decay: large steps early, a settled model at the end without a schedule search.
            opt.lr = lr * 0.5 * (1 + np.cos(np.pi * opt.t / total))
            idx = order[s * batch:(s + 1) * batch]
            xb = x[idx]
            if lag_dropout > 0:
                # Hide the recent lags of some rows so the model also learns to forecast from
                # the seasonal features alone: in holiday weeks the lags mislead and the
                # same week of last year is what carries the signal.
                hide = rng.random(len(xb)) < lag_dropout
                xb = xb.copy()
                xb[np.ix_(hide, lag_columns)] = p.mean[lag_columns]
            loss, grads = pinball_loss_and_grads(p, xb, target[idx], weight[idx])
            grads["w1"][~active] = 0.0
            grads["wl"][~active] = 0.0
            opt.step(p, grads)
            losses.append(loss)
        log(f"epoch {epoch + 1}/{epochs}: pinball {np.mean(losses):.5f}")
    return p
