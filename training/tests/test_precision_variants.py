"""training/tools/make_precision_variants.py: the FP16 and INT8 conversions of the committed MLP
graph (no Walmart data needed: rows come from test/vectors/features.json and a synthetic spread)."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import onnx
import pytest

ROOT = Path(__file__).resolve().parents[2]
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxconverter_common")
spec = importlib.util.spec_from_file_location("mpv", ROOT / "training/tools/make_precision_variants.py")
mpv = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mpv)

MLP = ROOT / "engines/walmart-mlp/3-2012-04-27"


def model() -> onnx.ModelProto:
    return onnx.load(str(MLP / "model.onnx"))


def rows(n: int = 512, seed: int = 3) -> np.ndarray:
    """The shared feature vectors plus perturbed copies (log_scale spread to 0 .. 12)."""
    cases = json.loads((ROOT / "test/vectors/features.json").read_text())["cases"]
    base = np.array([c["expected"] for c in cases if isinstance(c.get("expected"), list) and len(c["expected"]) == 45], dtype=np.float32)
    rng = np.random.default_rng(seed)
    x = base[rng.integers(0, len(base), n)] * rng.uniform(0.7, 1.3, (n, 45)).astype(np.float32)
    x[:, 14] = rng.uniform(0, 12, n)
    return x.astype(np.float32)


def rel(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> float:
    s = np.exp(x[:, 14].astype(np.float64))[:, None, None]
    return float((np.abs(a - b) / np.maximum(np.abs(b), s)).max())


def test_fp16_keeps_float32_io_and_large_outputs_finite():
    half, info = mpv.to_fp16(model())
    assert half.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert half.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert any(t.data_type == onnx.TensorProto.FLOAT16 for t in half.graph.initializer)
    x = rows()
    got, want = mpv.run_cpu(half, x), mpv.run_cpu(model(), x)
    assert np.isfinite(got).all() and got.max() > 65504  # e^12 x quantiles: float16 alone would overflow
    assert rel(got, want, x) < 1e-2
    assert set(info["float32Nodes"]) >= {n for n in info["float32Nodes"] if n.startswith("exp")}


def test_equalization_is_exact_in_float32():
    m = mpv.named(model())
    eq = mpv.equalize(m)
    assert eq is not None and eq["tensor"] == "net_x" and len(eq["matmuls"]) == 2
    assert eq["rangeAfter"][1] < eq["rangeBefore"][1] / 3  # log_scale no longer sets the uint8 step alone
    x = rows()
    assert rel(mpv.run_cpu(m, x), mpv.run_cpu(model(), x), x) < 1e-5


def test_int8_quantizes_the_network_not_the_fallback_level():
    x = rows(2048)
    q, info = mpv.to_int8(model(), x, "matmul", "minmax", True)
    assert len(info["quantizedNodes"]) == 4 and len(info["notQuantized"]) == 1
    ops = [n.op_type for n in q.graph.node]
    assert ops.count("QuantizeLinear") == 3 and "DequantizeLinear" in ops
    got, want = mpv.run_cpu(q, x), mpv.run_cpu(model(), x)
    assert np.isfinite(got).all()
    assert rel(got[:, :, 1:2], want[:, :, 1:2], x) < 0.1  # medians on calibrated rows


def test_gate_figures():
    x = rows(64)
    base = mpv.run_cpu(model(), x)
    hb = {"x": x, "actual": base[:, :, 1] * 1.1, "ok": np.ones((64, 4), dtype=bool), "rows": np.arange(64),
          "origins": np.full(64, 2100), "scale": np.exp(x[:, 14].astype(np.float64)),
          "md": np.zeros((64, 4), dtype=bool), "holiday": np.zeros((64, 4), dtype=bool)}
    same = mpv.gate(base, base.copy(), hb, "fp16", 0.01, "w", "rt")
    assert same["passed"] and same["relChange"] == 0 and same["maxRelDiff"] == 0
    worse = base.copy()
    worse[:, :, 1] *= 1.05
    g = mpv.gate(base, worse, hb, "fp16", 0.01, "w", "rt")
    assert not g["passed"] and abs(g["relChange"]) > 0.02
    assert abs((g["wape"] - g["baseWape"]) / g["baseWape"] - g["relChange"]) < 1e-5


def test_tree_ensembles_are_refused():
    gbm = onnx.load(str(ROOT / "engines/walmart-gbm/1-2012-04-27/model.onnx"))
    with pytest.raises(SystemExit, match="not quantizable in a meaningful way"):
        mpv.refuse_trees(gbm, "walmart-gbm")
