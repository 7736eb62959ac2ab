"""The seasonal-anchor quantile head is ordered and non-negative whatever the weights, and its gradients are right."""
import numpy as np

from forecast_training.feature_spec import FEATURE_COUNT
from forecast_training.quantile_mlp import (NET_INPUTS, calibrate, combine, derive, fallback_point, forward, forward_net,
                                           init_params, pinball_loss_and_grads)


def _features(rng, n):
    x = rng.normal(0, 3, (n, FEATURE_COUNT))
    x[: n // 2, :14] = np.abs(x[: n // 2, :14])  # half the rows with positive history (anchor active)
    x[:, 38:] = np.abs(x[:, 38:]) * (rng.random((n, 1)) < 0.5)
    return x


def test_quantiles_ordered_and_non_negative_for_random_weights():
    rng = np.random.default_rng(0)
    x = _features(rng, 500)
    anchor, f = derive(x)
    assert f.shape == (500, NET_INPUTS)
    p = init_params(f, 4, 16, rng)
    p.w3 = rng.normal(0, 3, p.w3.shape)
    q = forward(p, x)
    assert q.shape == (500, 4, 3)
    assert (q[:, :, 0] >= 0).all()
    assert (np.diff(q, axis=2) >= 0).all()


def test_anchor_is_growth_times_seasonal_naive():
    x = np.zeros((2, FEATURE_COUNT))
    x[:, 0:8] = 1.2  # recent 8 buckets
    x[:, 8] = 1.0
    x[:, 38:45] = 1.0  # the same 8 buckets a season earlier: growth 1.2, clipped to 1.1
    x[:, 9:13] = [2.0, 3.0, 1.0, 0.5]
    x[1, 8] = 0.0
    x[1, 38:45] = 0.0  # no comparable history: the anchor is the recent level
    anchor, f = derive(x)
    np.testing.assert_allclose(anchor[0], 1.1 * np.array([2.0, 3.0, 1.0, 0.5]))
    np.testing.assert_allclose(anchor[1], [1.2] * 4)


def test_fallback_point_is_the_fallbacks_blend():
    x = np.zeros((2, FEATURE_COUNT))
    x[:, 0:8] = 2.0  # recent level 2 (constant, so the smoothed level is 2 as well)
    x[:, 8] = 1.0
    x[:, 38:45] = 1.0  # growth 2, clipped to 1.4
    x[:, 9:13] = [2.0, 3.0, 1.0, 0.0]
    x[1, 38:45] = 0.0
    x[1, 8] = 0.0  # no comparable history: the smoothed level alone
    f = fallback_point(x)
    np.testing.assert_allclose(f[0], 0.8 * 1.4 * np.array([2.0, 3.0, 1.0, 0.0]) + 0.2 * 2.0)
    np.testing.assert_allclose(f[1], [2.0] * 4)


def test_combination_averages_medians_and_scales_widths():
    rng = np.random.default_rng(2)
    x = _features(rng, 300)
    anchor, f = derive(x)
    p = init_params(f, 4, 16, rng)
    p.w3 = rng.normal(0, 3, p.w3.shape)
    qn = forward_net(p, anchor, f)
    p.k_lo, p.k_hi = 0.5, 2.0
    q = combine(p, x, qn)
    np.testing.assert_allclose(q[:, :, 1], 0.5 * qn[:, :, 1] + 0.5 * fallback_point(x))
    np.testing.assert_allclose(q[:, :, 2] - q[:, :, 1], 2.0 * (qn[:, :, 2] - qn[:, :, 1]), atol=1e-12)
    np.testing.assert_allclose(q[:, :, 0], np.maximum(q[:, :, 1] - 0.5 * (qn[:, :, 1] - qn[:, :, 0]), 0))
    assert (q[:, :, 0] >= 0).all() and (np.diff(q, axis=2) >= 0).all()
    np.testing.assert_allclose(forward(p, x), q)


def test_calibration_puts_a_tenth_of_the_actuals_beyond_each_end():
    rng = np.random.default_rng(3)
    x = _features(rng, 4000)
    anchor, f = derive(x)
    p = init_params(f, 4, 16, rng)
    mid = forward(p, x)[:, :, 1]
    actual = mid + rng.normal(0, 1.0, mid.shape)
    ok = rng.random(mid.shape) < 0.9
    p.k_lo, p.k_hi = calibrate(p, x, actual, ok)
    q = forward(p, x)
    assert abs((actual < q[:, :, 0])[ok].mean() - 0.1) < 0.01 or (q[:, :, 0] == 0).any()
    assert abs((actual > q[:, :, 2])[ok].mean() - 0.1) < 0.01


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    f = rng.normal(size=(40, 6))
    anchor = rng.gamma(2, 1, size=(40, 2))
    t = rng.gamma(2, 1, size=(40, 2))
    w = rng.random((40, 2))
    p = init_params(f, 2, 8, rng, clamp=0.0)
    p.w3 = rng.normal(0, 0.5, p.w3.shape)
    p.wl = rng.normal(0, 0.3, p.wl.shape)
    # Non-zero biases: with b = 0 a row whose units are all off sits exactly on the ReLU
    # kink, where a one-sided finite difference disagrees with the (valid) subgradient.
    p.b1 = rng.normal(0, 0.5, p.b1.shape)
    p.b2 = rng.normal(0, 0.5, p.b2.shape)
    loss, grads = pinball_loss_and_grads(p, anchor, f, t, w)
    for name in ["w1", "b1", "w2", "b2", "w3", "b3", "wl"]:
        a = getattr(p, name)
        i = tuple(int(rng.integers(0, s)) for s in a.shape)
        a[i] += 1e-6
        bumped, _ = pinball_loss_and_grads(p, anchor, f, t, w)
        a[i] -= 1e-6
        assert abs((bumped - loss) / 1e-6 - grads[name][i]) < 1e-4 * (1 + abs(grads[name][i]))
    assert forward_net(p, anchor, f).shape == (40, 2, 3)
