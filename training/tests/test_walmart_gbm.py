"""walmart-gbm export: the ONNX graph computes what LightGBM + the numpy twin compute."""
import numpy as np
import pytest

lgb = pytest.importorskip("lightgbm")
ort = pytest.importorskip("onnxruntime")

from forecast_training import walmart_gbm as W  # noqa: E402
from forecast_training.dataset import TrainingRows  # noqa: E402
from forecast_training.feature_spec import FEATURE_COUNT, IDX  # noqa: E402
from forecast_training.quantile_mlp import fit as mlp_fit  # noqa: E402


def _rows(n=600, seed=0):
    rng = np.random.default_rng(seed)
    x = np.abs(rng.normal(1.0, 0.3, (n, FEATURE_COUNT))).astype(np.float32)
    x[:, IDX["log_scale"]] = rng.uniform(0, 8, n)
    x[: n // 10, IDX["seasonal_m1"]] = 0.0  # some rows without comparable history
    target = (x[:, [IDX["seasonal_0"], IDX["seasonal_p1"], IDX["seasonal_p2"], IDX["seasonal_p3"]]]
              * rng.normal(1.0, 0.1, (n, 4))).astype(np.float32)
    weight = np.ones((n, 4), dtype=np.float32)
    return TrainingRows(x=x, target=target, weight=weight, scale=np.exp(x[:, IDX["log_scale"]]), origin=np.zeros(n))


@pytest.mark.parametrize("weights,quantiles", [(0.3, (0.1, 0.5, 0.9)),
                                               ({"gbm": 0.4, "mlp_net": 0.2, "fallback": 0.3, "anchor": 0.1}, (0.1, 0.5, 0.9)),
                                               ({"gbm": 0.3, "fallback": 0.5, "anchor": 0.2}, (0.5,))])
def test_onnx_matches_twin(weights, quantiles):
    rows = _rows()
    hyper = dict(W.GBM_HYPER, rounds=15, rounds_q=10, min_data_in_leaf=5)
    boosters = W.fit_gbm(rows, hyper, log=lambda m: None, quantiles=quantiles)
    mlp = mlp_fit(rows.x, rows.target, rows.weight, horizons=4, hidden=8, epochs=1, batch=128, lr=0.01,
                  weight_decay=0.0, seed=1, log=lambda m: None)
    model = W.GbmModel(boosters, hyper, mlp, gbm_weight=weights, width_gbm=0.5 if len(quantiles) == 3 else 0.0, k_lo=1.1, k_hi=0.9)
    onnx_bytes = W.to_onnx(model, "test").SerializeToString()
    par = W.parity(model, onnx_bytes, _rows(200, seed=1).x)
    assert par["treesMaxAbsErr"] < 1e-5
    assert par["maxRelErr"] < 1e-3
    q = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"]).run(None, {"features": rows.x[:50]})[0]
    assert q.shape == (50, 4, 3)
    assert (q[:, :, 0] >= 0).all() and (q[:, :, 0] <= q[:, :, 1] + 1e-4).all() and (q[:, :, 1] <= q[:, :, 2] + 1e-4).all()
