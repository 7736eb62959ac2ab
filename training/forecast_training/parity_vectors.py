"""parity.json: real feature rows and the outputs the training pipeline's runtime gives for them.

Every exported model ships one next to model.onnx. The processor runs the rows through its own
runtime (onnxruntime-node, maybe a GPU provider) when it loads the version — at start-up and
before a hot swap — and refuses the version when an output differs by more than ``tolerance``
(relative to max(1, |output|)): a runtime, provider or build that does not compute what
training computed never serves. The rows are real: the training data's own feature rows at
origins the model was fitted up to (whole series: ``rowsPerSeries`` rows each for a daily
family), not synthetic ones.

The outputs are Python onnxruntime's on the exported graph. When the caller also passes the
trained model's own outputs (LightGBM/numpy in float64), their largest difference is recorded
(``training``) so a reader sees how close graph and model are; the check itself is graph vs graph.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

TOLERANCE = 1e-3


def onnx_outputs(onnx_bytes: bytes, x: np.ndarray, input_name: str = "features") -> np.ndarray:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(onnx_bytes, so, providers=["CPUExecutionProvider"])
    return np.asarray(sess.run(None, {input_name: np.asarray(x, dtype=np.float32)})[0])


def parity_doc(onnx_bytes: bytes, x: np.ndarray, *, source: str, input_name: str = "features",
               reference: np.ndarray | None = None, tolerance: float = TOLERANCE) -> dict:
    """The parity.json document for `x` (float32 rows [n, features])."""
    import onnxruntime as ort

    x32 = np.asarray(x, dtype=np.float32)
    y = onnx_outputs(onnx_bytes, x32, input_name)
    doc = {
        "about": "real feature rows and the outputs the exported graph gives for them in training "
                 "(Python onnxruntime); the processor recomputes them at load and refuses the version "
                 "beyond the tolerance (relative to max(1, |output|))",
        "source": source,
        "runtime": f"onnxruntime {ort.__version__} (Python, CPU)",
        "rows": int(x32.shape[0]),
        "tolerance": tolerance,
        # 9 significant digits: every float32 value exactly, in a third of the characters
        "features": [float(f"{v:.9g}") for v in x32.ravel()],
        "outputs": [float(f"{v:.9g}") for v in y.astype(np.float64).ravel()],
    }
    if reference is not None:
        ref = np.asarray(reference, dtype=np.float64).reshape(y.shape)
        d = np.abs(y.astype(np.float64) - ref)
        doc["training"] = {"maxAbsDiff": float(d.max()), "maxRelDiff": float((d / np.maximum(1.0, np.abs(ref))).max()),
                           "about": "exported graph vs the trained model's own float64 outputs on these rows"}
    return doc


def write_parity(out_dir: Path, onnx_bytes: bytes, x: np.ndarray, **kw) -> dict:
    doc = parity_doc(onnx_bytes, x, **kw)
    (Path(out_dir) / "parity.json").write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    return doc


def spread_rows(candidates: np.ndarray, k: int, seed: int = 7) -> np.ndarray:
    """`k` of the candidate series spread over the catalog (a fixed seed: the same rows on every export)."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(candidates, size=min(k, len(candidates)), replace=False))


def walmart_rows(data, last_week: int, series: int = 48, origins: tuple[int, ...] = (1, 9)) -> np.ndarray:
    """walmart-weekly family: `series` series with sales at each origin `last_week - k`, one row each."""
    from .features import build_features

    xs = []
    for k in origins:
        o = last_week - k
        live = np.flatnonzero(data.has_row[:, data.bucket_index(o)])
        rows = spread_rows(live, series)
        xs.append(build_features(data.dense, rows, np.full(len(rows), o)))
    return np.concatenate(xs).astype(np.float32)


def m5_rows(m, until_day: int, series: int = 6, origins: tuple[int, ...] = (1, 29)) -> np.ndarray:
    """m5-daily family: `series` listed series at each origin `until_day - k`, all their horizon rows."""
    from .m5.feature_spec import FEATURE_COUNT
    from .m5.features import features_dense

    xs = []
    for k in origins:
        o = until_day - k
        rows = spread_rows(np.flatnonzero(m.ds.first <= o), series)
        xs.append(features_dense(m.ds, rows, o, m.calendar, m.codes).reshape(-1, FEATURE_COUNT))
    return np.concatenate(xs).astype(np.float32)
