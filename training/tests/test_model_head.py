"""The quantile head is ordered and non-negative whatever the weights, and its gradients are right."""
import numpy as np

from forecast_training.quantile_mlp import init_params, forward, pinball_loss_and_grads


def test_quantiles_ordered_and_non_negative_for_random_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 3, (500, 38))
    p = init_params(x, 4, 16, rng)
    p.w3 = rng.normal(0, 3, p.w3.shape)
    q = forward(p, x)
    assert q.shape == (500, 4, 3)
    assert (q[:, :, 0] >= 0).all()
    assert (np.diff(q, axis=2) >= 0).all()


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 6))
    t = rng.gamma(2, 1, size=(40, 2))
    w = rng.random((40, 2))
    p = init_params(x, 2, 8, rng)
    p.w3 = rng.normal(0, 0.5, p.w3.shape)
    p.wl = rng.normal(0, 0.3, p.wl.shape)
    # Non-zero biases: with b = 0 a row whose units are all off sits exactly on the ReLU
    # kink, where a one-sided finite difference disagrees with the (valid) subgradient.
    p.b1 = rng.normal(0, 0.5, p.b1.shape)
    p.b2 = rng.normal(0, 0.5, p.b2.shape)
    loss, grads = pinball_loss_and_grads(p, x, t, w)
    for name in ["w1", "b1", "w2", "b2", "w3", "b3", "wl"]:
        a = getattr(p, name)
        i = tuple(int(rng.integers(0, s)) for s in a.shape)
        a[i] += 1e-6
        bumped, _ = pinball_loss_and_grads(p, x, t, w)
        a[i] -= 1e-6
        assert abs((bumped - loss) / 1e-6 - grads[name][i]) < 1e-4 * (1 + abs(grads[name][i]))
