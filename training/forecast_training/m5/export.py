"""ONNX export of the M5 daily model and the artifact folder (model.onnx, calendar.json,
model.json). Contract (docs/features-m5-daily.md): input `features` float32 [N, F], N =
series * 28 (series-major, h = 1..28); output `quantiles` float32 [-1, 28, 3] = p10, p50,
p90 in units: relu, then cumulative max across the three, inside the graph."""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np
import onnx
import onnxmltools
from onnx import TensorProto, compose, helper, numpy_helper
from onnxmltools.convert.common.data_types import FloatTensorType

from .feature_spec import FEATURE_COUNT, FEATURE_NAMES, FEATURE_SPEC, FEATURE_SPEC_HASH, HORIZONS, IDX
from ..parity_vectors import m5_rows, write_parity
from .features import date_of_day, day_index

OPSET = 15  # the highest onnxmltools 1.16 converts LightGBM to; onnxruntime 1.22 runs it
IR_VERSION = 8


def _sub_model(booster, n_cols: int, prefix: str) -> onnx.ModelProto:
    m = onnxmltools.convert_lightgbm(booster, initial_types=[("x", FloatTensorType([None, n_cols]))],
                                     target_opset=OPSET, zipmap=False)
    return compose.add_prefix(m, prefix)


def build_onnx(trained: dict, recipe: dict) -> onnx.ModelProto:
    models, cols = trained["models"], trained["cols"]
    kl, kh = (trained["k"], trained["k"]) if np.isscalar(trained["k"]) else trained["k"]
    U = [float(u) for u in trained.get("U", [1.0])]
    b = float(recipe["p50Blend"])
    n = helper.make_node
    f32 = lambda v, name: numpy_helper.from_array(np.asarray(v, dtype=np.float32), name)
    i64 = lambda v, name: numpy_helper.from_array(np.asarray(v, dtype=np.int64), name)
    nodes, inits, opsets = [], [
        i64(cols, "cols"), i64([IDX["scale"]], "scale_col"), f32(kl, "k_lo"), f32(kh, "k_hi"),
        i64([-1, HORIZONS, 3], "out_shape")], {}
    nodes.append(n("Gather", ["features", "cols"], ["x"], axis=1))
    nodes.append(n("Gather", ["features", "scale_col"], ["scale"], axis=1))
    outs = {}
    for name, booster in models.items():
        sub = _sub_model(booster, len(cols), f"{name}_")
        g = sub.graph
        nodes.append(n("Identity", ["x"], [g.input[0].name]))
        nodes.extend(g.node)
        inits.extend(g.initializer)
        outs[name] = g.output[0].name
        for op in sub.opset_import:
            opsets[op.domain] = max(opsets.get(op.domain, 0), op.version)
    if "p50_l1" in outs and "p50_tweedie" in outs:
        inits += [f32(b, "blend"), f32(1 - b, "blend_c")]
        nodes += [n("Mul", [outs["p50_l1"], "blend"], ["m_l1"]), n("Mul", [outs["p50_tweedie"], "blend_c"], ["m_tw"]),
                  n("Add", ["m_l1", "m_tw"], ["p50n"])]
    else:
        nodes.append(n("Identity", [outs.get("p50_l1") or outs["p50_tweedie"]], ["p50n"]))
    nodes += [
        n("Sub", ["p50n", outs["p10"]], ["d_lo"]), n("Mul", ["d_lo", "k_lo"], ["kd_lo"]), n("Sub", ["p50n", "kd_lo"], ["p10n"]),
        n("Sub", [outs["p90"], "p50n"], ["d_hi"]), n("Mul", ["d_hi", "k_hi"], ["kd_hi"]), n("Add", ["p50n", "kd_hi"], ["p90n"]),
        n("Concat", ["p10n", "p50n", "p90n"], ["qn0"], axis=1),
    ]
    if any(u != 1.0 for u in U):
        # promotion uplift: depth = max(relu(price_depth_56), price_rel_origin > 0 ? 1 - price_rel_origin : 0),
        # multiplier = U[0] + sum_j (U[j] - U[j-1]) * (depth >= edge_j)  (train.uplift_of)
        edges = recipe["upliftEdges"]
        inits += [i64([IDX["price_depth_56"]], "depth_col"), i64([IDX["price_rel_origin"]], "rel_col"),
                  f32([0.0], "zero"), f32([1.0], "one"), f32([U[0]], "u0")]
        nodes += [n("Gather", ["features", "depth_col"], ["dep56"], axis=1), n("Relu", ["dep56"], ["dep56r"]),
                  n("Gather", ["features", "rel_col"], ["rel"], axis=1), n("Greater", ["rel", "zero"], ["rel_ok"]),
                  n("Sub", ["one", "rel"], ["cut"]), n("Where", ["rel_ok", "cut", "zero"], ["cut0"]),
                  n("Max", ["dep56r", "cut0"], ["depth"])]
        acc = "u0"
        for j, e in enumerate(edges, start=1):
            inits += [f32([e], f"edge{j}"), f32([U[j] - U[j - 1]], f"du{j}")]
            nodes += [n("GreaterOrEqual", ["depth", f"edge{j}"], [f"ge{j}"]),
                      n("Cast", [f"ge{j}"], [f"gef{j}"], to=TensorProto.FLOAT),
                      n("Mul", [f"gef{j}", f"du{j}"], [f"step{j}"]), n("Add", [acc, f"step{j}"], [f"u{j}"])]
            acc = f"u{j}"
        nodes.append(n("Mul", ["qn0", acc], ["qn"]))
    else:
        nodes.append(n("Identity", ["qn0"], ["qn"]))
    nodes += [
        n("Mul", ["qn", "scale"], ["qu"]), n("Relu", ["qu"], ["qr"]),
        n("Split", ["qr"], ["s10", "s50", "s90"], axis=1),
        n("Max", ["s10", "s50"], ["c50"]), n("Max", ["c50", "s90"], ["c90"]),
        n("Concat", ["s10", "c50", "c90"], ["qs"], axis=1),
        n("Reshape", ["qs", "out_shape"], ["quantiles"]),
    ]
    graph = helper.make_graph(nodes, "m5_daily_gbm",
                              [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, FEATURE_COUNT])],
                              [helper.make_tensor_value_info("quantiles", TensorProto.FLOAT, [None, HORIZONS, 3])],
                              inits)
    opsets[""] = OPSET
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()],
                              producer_name="forecast-stream training/forecast_training/m5")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def onnx_predict(model_bytes: bytes, X: np.ndarray, threads: int = 1) -> np.ndarray:
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])
    return s.run(["quantiles"], {"features": X.astype(np.float32)})[0]


def bench_us_per_row(model_bytes: bytes, X: np.ndarray, batch_series: int = 1024, reps: int = 3) -> float:
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])
    rows = batch_series * HORIZONS
    xb = np.resize(X, (rows, X.shape[1])).astype(np.float32)
    s.run(["quantiles"], {"features": xb})
    best = 1e9
    for _ in range(reps):
        t = time.perf_counter()
        s.run(["quantiles"], {"features": xb})
        best = min(best, time.perf_counter() - t)
    return best / rows * 1e6


def reference_distribution(q: np.ndarray, scale: np.ndarray, horizon: np.ndarray) -> dict:
    probs = [round(0.05 * i, 2) for i in range(1, 20)]
    p50, width = [], []
    for h in range(1, HORIZONS + 1):
        m = horizon == h
        p50.append([round(float(v), 5) for v in np.quantile(q[m, 1] / scale[m], probs)])
        width.append([round(float(v), 5) for v in np.quantile((q[m, 2] - q[m, 0]) / scale[m], probs)])
    return {"probs": probs, "scale": "feature `scale` (mean of the last 56 days' sales, floor 0.1)",
            "p50OverScale": p50, "widthOverScale": width}


def export_artifact(m, trained: dict, recipe: dict, train_until: str, out_dir: Path, *, no_price: bool = False,
                    metrics: dict | None = None, extra: dict | None = None) -> dict:
    from .train import predict_units
    out_dir.mkdir(parents=True, exist_ok=True)
    kl, kh = (trained["k"], trained["k"]) if np.isscalar(trained["k"]) else trained["k"]
    U = [float(u) for u in trained.get("U", [1.0])]
    model = build_onnx(trained, recipe)
    data = model.SerializeToString()
    (out_dir / "model.onnx").write_bytes(data)
    (out_dir / "calendar.json").write_text(json.dumps(m.calendar_doc, separators=(",", ":")) + "\n")
    Xs = trained["X_sample"]
    ref = predict_units(trained, Xs, recipe)
    got = onnx_predict(data, Xs[: (len(Xs) // HORIZONS) * HORIZONS]).reshape(-1, 3)
    diff = float(np.abs(got - ref[: len(got)]).max())
    rel = float((np.abs(got - ref[: len(got)]) / np.maximum(1.0, np.abs(ref[: len(got)]))).max())
    us = bench_us_per_row(data, Xs)
    trees = {k: int(b.num_trees()) for k, b in trained["models"].items()}
    version = out_dir.name
    doc = {
        "name": "m5-daily-gbm", "version": version, "format": "onnx", "file": "model.onnx",
        "sha256": hashlib.sha256(data).hexdigest(), "opset": {op.domain or "ai.onnx": op.version for op in model.opset_import}, "bucketSize": "day",
        "rowsPerSeries": HORIZONS,
        # launch rows in training: forecasts of series younger than 28 days are marked cold_start
        **({"coldStart": {"historyBuckets": HORIZONS, "trainedOn": "launch rows (origin = listing - 1) and young series"}}
           if recipe.get("launchRows") else {}),
        "featureSpec": {"family": FEATURE_SPEC["family"], "version": FEATURE_SPEC["version"], "hash": FEATURE_SPEC_HASH,
                        "names": FEATURE_NAMES},
        "input": {"name": "features", "type": "float32", "shape": [-1, FEATURE_COUNT]},
        "output": {"name": "quantiles", "type": "float32", "shape": [-1, HORIZONS, 3]},
        "horizons": list(range(1, HORIZONS + 1)), "quantiles": [0.1, 0.5, 0.9],
        "training": {"trainUntil": train_until, "firstOrigin": str(date_of_day(trained["origins"][0])),
                     "lastOrigin": str(date_of_day(trained["origins"][1])), "originStep": 7,
                     "objective": {k: recipe["models"][k]["objective"] for k in trained["models"]},
                     "target": "sales / scale, weight scale (outputs multiplied by scale in the graph)",
                     "params": {"common": recipe["common"], "models": {k: recipe["models"][k] for k in trained["models"]}},
                     "p50Blend": recipe["p50Blend"],
                     "intervalFactor": {"low": float(kl), "high": float(kh)},
                     "promoWeight": recipe.get("promoWeight", 1.0),
                     "promoUplift": {"depth": "max(relu(price_depth_56), 1 - price_rel_origin if > 0)",
                                     "edges": recipe["upliftEdges"], "multipliers": U,
                                     "calibrated": trained.get("upliftCalibrated"),
                                     "calibrationRows": trained.get("upliftRows")},
                     "treePriceFeatures": bool(recipe.get("treePriceFeatures", True)),
                     "calibrationWeeks": recipe["calibrationWeeks"],
                     "rawCalibrationCoverage": round(trained["rawCalibrationCoverage"], 4),
                     "sampleShare": recipe["sampleShare"], "rows": trained["trainRows"],
                     "priceFeatures": not no_price, "fitSeconds": trained["fitSeconds"],
                     "trainSeconds": trained["trainSeconds"], "trees": trees, "totalTrees": sum(trees.values())},
        "codes": m.codes, "calendarFile": "calendar.json",
        "referenceDistribution": reference_distribution(ref, Xs[:, IDX["scale"]].astype(np.float64),
                                                        Xs[:, IDX["horizon"]].astype(np.int64)),
        "onnxParity": {"rows": int(len(got)), "maxAbsDiff": diff, "maxRelDiff": rel},
        "inference": {"usPerRow": round(us, 3), "batchRows": 1024 * HORIZONS, "threads": 1},
    }
    if metrics:
        doc["devWindow"] = metrics
    if extra:
        doc.update(extra)
    (out_dir / "model.json").write_text(json.dumps(doc, indent=1) + "\n")
    px = m5_rows(m, day_index(train_until))
    write_parity(out_dir, data, px, source=f"m5-daily: real feature rows at origins before trainUntil {train_until} "
                                          f"(training/forecast_training/parity_vectors.py)", reference=predict_units(trained, px, recipe))
    print(f"exported {out_dir}: parity max abs {diff:.2e}, {us:.2f} us/row, trees {trees}")
    return doc
