"""The seasonal-anchor quantile MLP in numpy, trained with the pinball loss.

Why this structure (docs/model.md has the numbers): a model trained before November 2011
never sees a holiday season together with a year of lags, so a network that forecasts from
raw lags learns "recent weeks beat last year's week" and applies it at Thanksgiving and
Christmas, where it is wrong. Here the network only *corrects* a seasonal anchor:

  g  = clip(sum(lag_0..7) / sum(y one season before those 8 buckets), G_MIN, G_MAX)
       (1 where either sum is <= 0: no comparable history)
  A_h = g * y[o+h-season] / s  (seasonal naive times year-on-year growth, in units of s);
        the recent 8-bucket mean where there is no comparable history
  d_k = (lag_k - g * ly_lag_k)   how far the recent buckets were from their own anchor

and sees the anchor, d_k, log g, the history flag, the recent level, log_scale and the
promotion columns, but not raw lags, calendar flags, week of year or temperature: those let
it learn a non-seasonal relation that breaks in the holiday season. Its inputs are clamped to
their [CLAMP, 1 - CLAMP] training quantiles (train and serve alike), so a holiday week cannot
push it into linear extrapolation: far from the training data it reverts to the anchor.

Output head (units of s): p50 = relu(A_h + z0), p10 = relu(p50 - softplus(z1)),
p90 = p50 + softplus(z2): non-negative and ordered by construction (`forward_net`, what is
trained).

Served output (`forward`, v3): an equal-weight combination of the network's p50 with the
fallback's point forecast computed from the same features (`fallback_point`: 0.8 x seasonal
naive x growth clipped [0.7, 1.4] + 0.2 x an exponentially smoothed level of the 8 lags,
alpha 0.3), the network's lower/upper widths kept around the combined median and multiplied
by k_lo / k_hi, fitted by train.py on held-out last training weeks so that 10% of actuals
fall below p10 and 10% above p90. Both forecasts are about as accurate alone and their errors
are far from perfectly correlated, so the combination beats either (docs/model.md). Weight
0.5 is the a-priori equal weight, not fitted. export_onnx.py writes the same graph (derived
inputs included) and train.py checks it against `forward`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .feature_spec import IDX

QUANTILES = (0.1, 0.5, 0.9)
G_MIN, G_MAX = 0.9, 1.1  # growth clip (chosen on the tuning window, docs/model.md)
CLAMP = 0.02  # input clamp quantile

LAG_COLS = [IDX[f"lag_{k}"] for k in range(8)]
LY_COLS = [IDX["seasonal_m1"]] + [IDX[f"ly_lag_{k}"] for k in range(1, 8)]
SEASONAL_COLS = [IDX[f"seasonal_{n}"] for n in ("0", "p1", "p2", "p3")]  # y[o+h-season], h = 1..4
# Raw feature columns the network sees next to the derived ones.
PASS_COLS = [IDX["log_scale"]] + [IDX[f"markdown_h{h}"] for h in range(1, 5)] + [IDX[f"depth_h{h}"] for h in range(1, 5)] \
    + [IDX[f"precip_h{h}"] for h in range(1, 5)]
NET_INPUTS = 4 + 8 + 3 + len(PASS_COLS)  # A_h, d_k, (log g, history flag, level), PASS_COLS

# The combination with the fallback's forecast (src/inference/fallback/fallback-forecast.ts,
# its constants): share of the network's p50, and the fallback's growth clip, seasonal
# weight and smoothing constant. The fallback's level smooths 26 buckets; 8 lags carry
# 1 - 0.7^8 = 94% of that weight and are renormalised here.
NET_WEIGHT = 0.5
FB_G_MIN, FB_G_MAX = 0.7, 1.4
FB_SEASONAL_WEIGHT = 0.8
FB_ALPHA = 0.3
FB_LEVEL_WEIGHTS = FB_ALPHA * (1 - FB_ALPHA) ** np.arange(len(LAG_COLS))
FB_LEVEL_WEIGHTS = FB_LEVEL_WEIGHTS / FB_LEVEL_WEIGHTS.sum()


def softplus(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, z)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def derive(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows [n, FEATURE_COUNT] -> (anchor A [n, 4], network inputs [n, NET_INPUTS]), units of s."""
    x = np.asarray(x, dtype=np.float64)
    lags, ly = x[:, LAG_COLS], x[:, LY_COLS]
    now, then = lags.sum(axis=1), ly.sum(axis=1)
    has = (now > 0) & (then > 0)
    g = np.where(has, np.clip(now / np.where(has, then, 1.0), G_MIN, G_MAX), 1.0)
    level = now / 8
    anchor = np.where(has[:, None], g[:, None] * x[:, SEASONAL_COLS], level[:, None])
    d = (lags - g[:, None] * ly) * has[:, None]
    f = np.concatenate([anchor, d, np.log(g)[:, None], has[:, None].astype(np.float64), level[:, None], x[:, PASS_COLS]], axis=1)
    return anchor, f


def fallback_point(x: np.ndarray) -> np.ndarray:
    """The fallback's point forecast from the feature row [n, 4], units of s, >= 0."""
    x = np.asarray(x, dtype=np.float64)
    lags, ly = x[:, LAG_COLS], x[:, LY_COLS]
    now, then = lags.sum(axis=1), ly.sum(axis=1)
    has = (now > 0) & (then > 0)
    g = np.where(has, np.clip(now / np.where(has, then, 1.0), FB_G_MIN, FB_G_MAX), 1.0)
    level = lags @ FB_LEVEL_WEIGHTS
    seasonal = FB_SEASONAL_WEIGHT * g[:, None] * x[:, SEASONAL_COLS] + (1 - FB_SEASONAL_WEIGHT) * level[:, None]
    return np.maximum(np.where(has[:, None], seasonal, level[:, None]), 0.0)


def combine(p: "MlpParams", x: np.ndarray, qn: np.ndarray) -> np.ndarray:
    """Network quantiles [n, H, 3] (units of s) -> served quantiles: p50 combined with the
    fallback's point forecast, the network's widths around it scaled by k_lo / k_hi."""
    mid = NET_WEIGHT * qn[:, :, 1] + (1 - NET_WEIGHT) * fallback_point(x)
    lo = p.k_lo * (qn[:, :, 1] - qn[:, :, 0])
    hi = p.k_hi * (qn[:, :, 2] - qn[:, :, 1])
    return np.stack([np.maximum(mid - lo, 0.0), mid, mid + hi], axis=2)


@dataclass
class MlpParams:
    mean: np.ndarray
    std: np.ndarray
    lo: np.ndarray  # input clamp (network inputs, before standardisation)
    hi: np.ndarray
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    w3: np.ndarray
    b3: np.ndarray
    wl: np.ndarray  # linear skip from the standardised input
    horizons: int
    k_lo: float = 1.0  # interval calibration (combine), set by train.py
    k_hi: float = 1.0

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in ("w1", "b1", "w2", "b2", "w3", "b3", "wl")}


def init_params(f: np.ndarray, horizons: int, hidden: int, rng: np.random.Generator, clamp: float = CLAMP) -> MlpParams:
    """`f`: network inputs (derive()[1]) of the training rows."""
    d = f.shape[1]
    out = horizons * len(QUANTILES)
    lo = np.quantile(f, clamp, axis=0)
    hi = np.quantile(f, 1 - clamp, axis=0)
    fc = np.clip(f, lo, hi)
    mean = fc.mean(axis=0)
    # Inputs are O(1) already; the floor keeps an almost constant column (MarkDowns are NA
    # before 2011-11-11) from being blown up to huge standardised values.
    std = np.maximum(fc.std(axis=0), 1.0)
    he = lambda fan_in, shape: rng.normal(0, np.sqrt(2.0 / fan_in), shape)
    # Start at "p50 = anchor, p10/p90 = anchor -/+ 0.3 s".
    b3 = np.tile([0.0, np.log(np.expm1(0.3)), np.log(np.expm1(0.3))], horizons)
    return MlpParams(mean, std, lo, hi, he(d, (d, hidden)), np.zeros(hidden), he(hidden, (hidden, hidden)),
                     np.zeros(hidden), rng.normal(0, 0.01, (hidden, out)), b3, np.zeros((d, out)), horizons)


def forward_net(p: MlpParams, anchor: np.ndarray, f: np.ndarray, cache: bool = False):
    xs = (np.clip(f, p.lo, p.hi) - p.mean) / p.std
    a1 = xs @ p.w1 + p.b1
    h1 = np.maximum(a1, 0)
    a2 = h1 @ p.w2 + p.b2
    h2 = np.maximum(a2, 0)
    z = (h2 @ p.w3 + p.b3 + xs @ p.wl).reshape(len(f), p.horizons, len(QUANTILES))
    c = anchor + z[:, :, 0]
    q50 = np.maximum(c, 0)
    r10 = q50 - softplus(z[:, :, 1])
    q = np.stack([np.maximum(r10, 0), q50, q50 + softplus(z[:, :, 2])], axis=2)
    if cache:
        return q, (xs, a1, h1, a2, h2, z, c, r10)
    return q


def forward(p: MlpParams, x: np.ndarray) -> np.ndarray:
    """Feature rows -> served quantiles [n, H, 3] in units of the series scale."""
    anchor, f = derive(x)
    return combine(p, x, forward_net(p, anchor, f))


def calibrate(p: MlpParams, x: np.ndarray, actual: np.ndarray, ok: np.ndarray) -> tuple[float, float]:
    """Interval multipliers (k_lo, k_hi) such that 10% of the held-out actuals (units of s,
    [n, H], `ok` where scored) fall below p10 and 10% above p90 of `combine` at k = 1."""
    anchor, f = derive(x)
    qn = forward_net(p, anchor, f)
    mid = combine(p, x, qn)[:, :, 1]  # the median does not depend on k
    lo = np.maximum(qn[:, :, 1] - qn[:, :, 0], 1e-9)
    hi = np.maximum(qn[:, :, 2] - qn[:, :, 1], 1e-9)
    below = np.where(actual < mid, (mid - actual) / lo, 0.0)[ok]
    above = np.where(actual > mid, (actual - mid) / hi, 0.0)[ok]
    return float(np.quantile(below, 0.9)), float(np.quantile(above, 0.9))


def pinball_loss_and_grads(p: MlpParams, anchor, f, target, weight):
    """Weighted mean pinball loss over (row, horizon, quantile) and its parameter gradients."""
    q, (xs, a1, h1, a2, h2, z, c, r10) = forward_net(p, anchor, f, cache=True)
    tau = np.array(QUANTILES)
    diff = target[:, :, None] - q  # [n,H,3]
    w = weight[:, :, None]
    wsum = weight.sum() + 1e-12
    loss = float((w * np.maximum(tau * diff, (tau - 1) * diff)).sum() / wsum)
    g_q = w * ((diff < 0).astype(np.float64) - tau) / wsum
    m10 = r10 > 0
    g50 = g_q[:, :, 1] + g_q[:, :, 0] * m10 + g_q[:, :, 2]
    g_z = np.stack([g50 * (c > 0), -g_q[:, :, 0] * m10 * sigmoid(z[:, :, 1]), g_q[:, :, 2] * sigmoid(z[:, :, 2])],
                   axis=2).reshape(len(f), -1)
    grads = {"w3": h2.T @ g_z, "b3": g_z.sum(axis=0), "wl": xs.T @ g_z}
    g_a2 = (g_z @ p.w3.T) * (a2 > 0)
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
        weight_decay: float, seed: int, min_active: float = 0.1, clamp: float = CLAMP, log=print) -> MlpParams:
    rng = np.random.default_rng(seed)
    anchor, f = derive(x)
    target = target.astype(np.float64)
    weight = weight.astype(np.float64)
    p = init_params(f, horizons, hidden, rng, clamp)
    # An input that is almost always 0 in the training window (the honest model sees no
    # MarkDowns: they start 2011-11-11) has an effect that can only be guessed, and a
    # guess extrapolates badly. Freeze its input weights at 0 instead.
    active = (np.abs(f) > 1e-9).mean(axis=0) >= min_active
    p.w1[~active] = 0.0
    p.wl[~active] = 0.0
    log(f"inactive network inputs: {np.flatnonzero(~active).tolist()}")
    opt = Adam(lr=lr, weight_decay=weight_decay)
    n = len(f)
    steps_per_epoch = max(1, n // batch)
    total = epochs * steps_per_epoch
    for epoch in range(epochs):
        order = rng.permutation(n)
        losses = []
        for s in range(steps_per_epoch):
            # Cosine decay: large steps early, a settled model at the end without a schedule search.
            opt.lr = lr * 0.5 * (1 + np.cos(np.pi * opt.t / total))
            idx = order[s * batch:(s + 1) * batch]
            loss, grads = pinball_loss_and_grads(p, anchor[idx], f[idx], target[idx], weight[idx])
            grads["w1"][~active] = 0.0
            grads["wl"][~active] = 0.0
            opt.step(p, grads)
            losses.append(loss)
        log(f"epoch {epoch + 1}/{epochs}: pinball {np.mean(losses):.5f}")
    return p
