#!/usr/bin/env python3
"""FP16 and INT8 variants of a model version, each gated against the FP32 model (issue #11 item 5).

    /tmp/pv/bin/python training/tools/make_precision_variants.py \\
        --from engines/walmart-mlp/3-2012-04-27 --out test/fixtures/precision/walmart-mlp

writes ``<out>/<version>-fp16/`` and ``<out>/<version>-int8/`` (model.json + model.onnx +
parity.json, as make_variant.py writes them), and prints the gate. To serve one, copy the folder
into ``engines/<name>/``: it is a version like any other there (and, by its name, the newest one).

- **FP16**: onnxconverter-common's ``convert_float_to_float16(keep_io_types=True)``: input and
  output stay float32. Kept in float32 (``node_block_list``): the original ``Cast`` nodes (the
  converter loops on a blocked op type that it inserts itself) and the de-normalisation
  ``Gather(log_scale) -> Exp -> Reshape -> Mul``: ``exp(log_scale)`` and the outputs in sales
  units pass float16's largest value (65,504) for big series. Everything before it is in units
  of the series' scale, where float16's range is ample.
- **INT8**: ONNX Runtime static quantization (``quantize_static``, QDQ format, int8 weights per
  output channel, uint8 activations per tensor, MinMax) of the network's ``MatMul`` nodes only
  (the 28-64-64-12 layers and the linear skip; their outputs stay float; not the fallback level,
  whose raw-lag input is unbounded). Before that, the clamped network input is equalised per
  column (``equalize``, exact in float32), so the wide log_scale column no longer sets the uint8
  step for all columns. ``--int8-ops all`` quantizes every op ORT can, which wrecks the output:
  a deliberate gate failure for the tests. The activation ranges come from a
  ``CalibrationDataReader`` over real feature rows of training windows: every series that has
  sold by then, at every origin in ``--calibration`` (default 2011-02-04 .. 2011-12-02, the
  first origin with a year of history to the last one whose four targets lie before the
  held-back window; ``--calibration-series N`` samples N per origin instead), which holds the
  Super Bowl, Labor Day, Thanksgiving and Christmas 2011 weeks and the first markdown weeks
  (MarkDowns are NA before 2011-11-11). The tool refuses a calibration set without holiday or
  markdown rows unless ``--allow-no-promotions`` (a study; the processor refuses such a variant).
- **The gate**, on the held-back window ``--held-back`` (default target weeks 2012-01-06 ..
  2012-04-27, the later part of the data README's tuning window, with the 2012 Super Bowl and
  markdowns every week; origins 2011-12-09 .. 2012-04-20; no calibration row is from there, and
  no calibration row's targets are). Over every (series, origin, horizon) pair whose target is
  in the window and has a sale row: WAPE = sum |y - p50| / sum |y| of the served median, FP32
  vs variant, both run by the processor's runtime (below);
  ``relChange = (wape - baseWape) / baseWape`` must satisfy ``|relChange| < 0.02``; and every
  output of those rows (4 horizons x p10/p50/p90) must satisfy
  ``|v - b| / max(|b|, s) <= tolerance`` (``s`` the series scale, exp(log_scale), so outputs
  near 0 are compared on the series' own scale): tolerance 0.01 for FP16 and 0.10 for INT8 by
  default. A model with a statistical component (walmart-stl) is gated on the served blend, the
  component computed once and applied to both.
- A variant that fails is not written unless ``--keep-failed`` (then with ``passed: false``, so
  the processor's refusal at load can be tested); the exit status is 1 when a variant failed.
- model.json: the source's, with ``version`` = the folder name, ``sha256`` of the new file and
  ``variant: {precision, from, tool, conversion, gate: {heldBack, pairs, baseWape, wape, relChange,
  maxRelChange, maxAbsDiff, maxRelDiff, tolerance, passed, calibration}}``; the processor
  re-checks it at load (``checkVariantGate`` in src/inference/model/model-artifact.ts).
- The gate's outputs and parity.json's come from the processor's own runtime: onnxruntime-node
  (``ort-node-run.mjs``: CPU provider, one thread, ``graphOptimizationLevel: 'all'``), when node
  and node_modules are there (``--runtime python`` forces Python's onnxruntime). It matters for
  INT8: onnxruntime-node 1.30 fuses the QDQ MatMuls into integer kernels (QGemm,
  MatMulIntegerToFloat) whose rounding differs from the Python onnxruntime 1.22 pinned for CI by up
  to 4.5% of an output on the parity rows, which the load-time parity check would refuse.
- parity.json: real held-back rows and test/vectors/features.json rows with the variant's outputs
  (tolerance 2e-3 FP16, 2e-2 INT8, relative to max(1, |output|) as the lifecycle checks).

Tree ensembles (m5-daily-gbm, walmart-gbm) are refused: ``ai.onnx.ml TreeEnsembleRegressor``
(opset 3) takes float/double only and has no QDQ form, its cost is the tree walk (compares and
branches), not arithmetic that a narrower type speeds up, and its thresholds are float32
comparisons that float16 or int8 would move (the export relies on matching LightGBM exactly).

Needs numpy, onnx, onnxruntime, onnxconverter-common (a venv from training/requirements-test.txt,
e.g. ``python3 -m venv /tmp/pv && /tmp/pv/bin/pip install -r training/requirements-test.txt``),
the Walmart data (``--data``, default ../shared/data/walmart2014) and, for the gate's runtime,
node with the repo's node_modules.
"""
from __future__ import annotations

import argparse
import copy
import datetime as dt
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training"))

from forecast_training.calendar_buckets import label_date  # noqa: E402
from forecast_training.feature_spec import IDX  # noqa: E402
from forecast_training.features import H, build_features  # noqa: E402
from forecast_training.train import week_of  # noqa: E402
from forecast_training.walmart import load_walmart  # noqa: E402

MAX_REL_CHANGE = 0.02  # the issue's rule: accuracy moves by less than 2% (relative WAPE)
TOLERANCE = {"fp16": 0.01, "int8": 0.10}
PARITY_TOLERANCE = {"fp16": 2e-3, "int8": 2e-2}
TREE_OPS = {"TreeEnsembleRegressor", "TreeEnsembleClassifier", "TreeEnsemble"}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def named(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy whose nodes all have unique names (the converters key casts and QDQ pairs on them)."""
    m = copy.deepcopy(model)
    seen: set[str] = set()
    for i, n in enumerate(m.graph.node):
        if not n.name or n.name in seen:
            n.name = f"{n.op_type.lower()}_{i}"
        seen.add(n.name)
    return m


def refuse_trees(model: onnx.ModelProto, where: str) -> None:
    ops = {n.op_type for n in model.graph.node}
    if ops & TREE_OPS:
        raise SystemExit(f"{where}: a tree ensemble ({', '.join(sorted(ops & TREE_OPS))}) is not quantizable in a meaningful way: "
                         "ai.onnx.ml TreeEnsembleRegressor (opset 3) takes float/double only and has no QDQ form, its cost is "
                         "the tree walk (compares and branches), not arithmetic a narrower type speeds up, and float16 or int8 "
                         "thresholds would move the splits the export matches to LightGBM exactly. Variants are made for MLP graphs only.")
    if "MatMul" not in ops:
        raise SystemExit(f"{where}: no MatMul in the graph; nothing to convert")


# ---------------------------------------------------------------------------------------------
# FP16


def to_fp16(model: onnx.ModelProto) -> tuple[onnx.ModelProto, dict]:
    from onnxconverter_common import float16

    m = named(model)
    producer = {o: n.name for n in m.graph.node for o in n.output}
    out_name = m.graph.output[0].name
    # The de-normalisation chain: everything downstream of the log_scale column's Gather.
    keep32 = {n.name for n in m.graph.node if n.op_type == "Cast"}
    scale_chain = _downstream_of_log_scale(m)
    keep32 |= scale_chain
    want = {o.name: o.type.tensor_type.elem_type for o in m.graph.output}
    big = max((float(np.max(np.abs(onnx.numpy_helper.to_array(t)))) for t in m.graph.initializer
               if t.data_type == TensorProto.FLOAT and onnx.numpy_helper.to_array(t).size), default=0.0)
    if big > 1e4:
        raise SystemExit(f"an initializer holds {big:g}: the converter would clip it to 1e4 in float16")
    half = float16.convert_float_to_float16(m, keep_io_types=True, op_block_list=[], node_block_list=sorted(keep32))
    half = _float32_outputs(half, want)
    onnx.checker.check_model(half, full_check=True)
    casts = sum(1 for n in half.graph.node if n.op_type == "Cast")
    info = {
        "tool": "onnxconverter-common convert_float_to_float16",
        "keepIoTypes": True,
        "float32Nodes": sorted(keep32),
        "float32NodesWhy": "the graph's own Cast nodes, and exp(log_scale) x the normalised quantiles (sales units exceed float16's 65504)",
        "nodes": len(half.graph.node),
        "casts": casts,
        "output": producer.get(out_name),
    }
    return half, info


def _downstream_of_log_scale(m: onnx.ModelProto) -> set[str]:
    """Names of the nodes from the Gather of the log_scale column to the graph output."""
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    col = IDX["log_scale"]
    start = [n for n in m.graph.node if n.op_type == "Gather" and n.input[0] == m.graph.input[0].name
             and n.input[1] in inits and inits[n.input[1]].size == 1 and int(inits[n.input[1]].ravel()[0]) == col]
    if len(start) != 1:
        raise SystemExit("cannot find the Gather of the log_scale column (the de-normalisation the FP16 variant keeps in float32)")
    chain = {start[0].name}
    tensors = set(start[0].output)
    for n in m.graph.node:  # topologically sorted
        if any(i in tensors for i in n.input):
            chain.add(n.name)
            tensors |= set(n.output)
    return chain


def _float32_outputs(model: onnx.ModelProto, want: dict) -> onnx.ModelProto:
    """keep_io_types is undone by a blocked node that writes a graph output (the converter appends
    a Cast to float16 and retypes the output): drop that Cast, keep the output float32."""
    g = model.graph
    for o in g.output:
        if want.get(o.name) != TensorProto.FLOAT or o.type.tensor_type.elem_type == TensorProto.FLOAT:
            continue
        types = {v.name: v.type.tensor_type.elem_type for v in list(g.value_info) + list(g.input)}
        p = next(n for n in g.node if o.name in n.output)
        if not (p.op_type == "Cast" and p.attribute[0].i == TensorProto.FLOAT16 and types.get(p.input[0]) == TensorProto.FLOAT):
            raise SystemExit(f"float16 conversion: output {o.name} is float16 and not produced by a removable Cast")
        src = p.input[0]
        g.node.remove(p)
        sp = next(n for n in g.node if src in n.output)
        sp.output[list(sp.output).index(src)] = o.name
        for n in g.node:
            for i, x in enumerate(n.input):
                if x == src:
                    n.input[i] = o.name
        for v in [v for v in g.value_info if v.name in (src, o.name)]:
            g.value_info.remove(v)
        o.type.tensor_type.elem_type = TensorProto.FLOAT
    return model


# ---------------------------------------------------------------------------------------------
# INT8


class RowsReader:
    """onnxruntime.quantization.CalibrationDataReader over feature rows, in batches."""

    def __init__(self, input_name: str, x: np.ndarray, batch: int = 1024):
        self.input_name, self.x, self.batch, self.i = input_name, x, batch, 0

    def get_next(self):
        if self.i >= len(self.x):
            return None
        b = self.x[self.i:self.i + self.batch]
        self.i += self.batch
        return {self.input_name: b}

    def rewind(self) -> None:
        self.i = 0


def equalize(m: onnx.ModelProto) -> dict | None:
    """Per-column range equalisation of the network input (as SmoothQuant / cross-layer
    equalisation do), in place, exact in real arithmetic: ``x @ W == (x / c) @ (c[:, None] * W)``.
    Activations are quantized per tensor, so one wide column (log_scale, 1.96 .. 11.3; the
    markdown columns, 0 .. 4.3) sets the step for all 28 (0.049 of the series scale). The graph
    clamps that input to known per-column bounds (``Min(Max(x, lo), hi)``, the training
    quantiles), so ``c_j = max(1, width_j / median width)`` shrinks exactly the wide columns; the
    weights are quantized per output channel and take ``c`` in their rows. Returns None when the
    graph has no such clamp in front of its MatMuls (nothing is changed then)."""
    from onnx import helper, numpy_helper

    g = m.graph
    inits = {t.name: t for t in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    users: dict[str, list] = {}
    for n in g.node:
        if n.op_type == "MatMul" and n.input[1] in inits:
            users.setdefault(n.input[0], []).append(n)
    for x, mms in users.items():
        mn = producer.get(x)
        mx = producer.get(mn.input[0]) if mn is not None and mn.op_type == "Min" else None
        if mx is None or mx.op_type != "Max" or mn.input[1] not in inits or mx.input[1] not in inits:
            continue
        lo = numpy_helper.to_array(inits[mx.input[1]]).astype(np.float64)
        hi = numpy_helper.to_array(inits[mn.input[1]]).astype(np.float64)
        if lo.ndim != 1 or lo.shape != hi.shape:
            continue
        width = hi - lo
        target = float(np.median(width[width > 1e-3]))
        c = np.maximum(1.0, width / target)
        for n in mms:
            w = numpy_helper.to_array(inits[n.input[1]]).astype(np.float64)
            if sum(n.input[1] in o.input for o in g.node) != 1:
                raise SystemExit(f"equalisation: weight {n.input[1]} is shared; not handled")
            inits[n.input[1]].CopyFrom(numpy_helper.from_array((w * c[:, None]).astype(np.float32), n.input[1]))
            n.input[0] = x + "_eq"
        g.initializer.append(numpy_helper.from_array((1.0 / c).astype(np.float32), x + "_eq_inv_c"))
        at = list(g.node).index(mn)
        g.node.insert(at + 1, helper.make_node("Mul", [x, x + "_eq_inv_c"], [x + "_eq"], name=x + "_equalize"))
        onnx.checker.check_model(m)
        return {"tensor": x, "matmuls": [n.name for n in mms], "columnDivisors": [round(float(v), 4) for v in c],
                "rangeBefore": [round(float(lo.min()), 4), round(float(hi.max()), 4)],
                "rangeAfter": [round(float((lo / c).min()), 4), round(float((hi / c).max()), 4)]}
    return None


def to_int8(model: onnx.ModelProto, calib_x: np.ndarray, ops: str, method: str, equalise: bool) -> tuple[onnx.ModelProto, dict]:
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static

    CalibrationDataReader.register(RowsReader)
    m = named(model)
    eq = equalize(m) if equalise and ops == "matmul" else None
    inits = {t.name for t in m.graph.initializer}
    producer = {o: n for n in m.graph.node for o in n.output}
    # The network's MatMuls: those whose activation comes from the clamped network input or a
    # hidden layer; not the fallback level (raw lags @ smoothing weights): its input is the
    # unclamped lags in units of the scale (-52 .. 52 here), where a uint8 step is 0.4 of the
    # scale: quantizing it moved WAPE +12.7% on the held-back window.
    network, skipped = [], []
    for n in m.graph.node:
        if n.op_type != "MatMul" or n.input[1] not in inits:
            continue
        src = producer.get(n.input[0])
        (network if src is not None and src.op_type in ("Min", "Relu", "Mul") and src.input[0] != m.graph.input[0].name else skipped).append(n.name)
    if ops == "matmul":
        nodes, op_types, extra = network, ["MatMul"], {"OpTypesToExcludeOutputQuantization": ["MatMul"]}
    else:
        nodes, op_types, extra = None, None, {}
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        onnx.save(m, str(src))
        quantize_static(
            str(src), str(dst), RowsReader(m.graph.input[0].name, calib_x),
            quant_format=QuantFormat.QDQ, op_types_to_quantize=op_types, nodes_to_quantize=nodes, per_channel=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            calibrate_method={"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
                              "entropy": CalibrationMethod.Entropy}[method],
            extra_options={"CalibTensorRangeSymmetric": False, **extra},
        )
        q = onnx.load(str(dst))
    onnx.checker.check_model(q, full_check=True)
    info = {
        "tool": f"onnxruntime {ort.__version__} quantization.quantize_static",
        "format": "QDQ",
        "quantizedNodes": nodes if nodes is not None else "every op ORT quantizes",
        "notQuantized": skipped if ops == "matmul" else [],
        "notQuantizedWhy": "the fallback level MatMul reads the raw lags (unclamped, -52 .. 52 x scale): a uint8 step of 0.4 x scale" if ops == "matmul" else None,
        "outputs": "MatMul outputs stay float (OpTypesToExcludeOutputQuantization)" if ops == "matmul" else "quantized",
        "weights": "int8, symmetric, per output channel",
        "activations": "uint8, asymmetric, per tensor",
        "calibrationMethod": method,
        "equalization": eq,
        "quantizeLinearNodes": sum(1 for n in q.graph.node if n.op_type == "QuantizeLinear"),
        "nodes": len(q.graph.node),
    }
    return q, info


# ---------------------------------------------------------------------------------------------
# Data: calibration rows and the held-back window


def window_arg(text: str) -> tuple[int, int]:
    a, b = text.split(":")
    return week_of(a), week_of(b)


def calibration_rows(data, first_origin: int, last_origin: int, per_origin: int, seed: int) -> tuple[np.ndarray, dict]:
    rng = np.random.default_rng(seed)
    n = len(data.series_ids)
    started = np.cumsum(data.has_row, axis=1) > 0  # the series has sold by that week
    rows, origins = [], []
    for o in range(first_origin, last_origin + 1):
        alive = np.flatnonzero(started[:, data.bucket_index(o)])
        pick = alive if per_origin <= 0 or per_origin >= len(alive) else np.sort(rng.choice(alive, per_origin, replace=False))
        rows.append(pick)
        origins.append(np.full(len(pick), o))
    r, o = np.concatenate(rows), np.concatenate(origins)
    x = build_features(data.dense, r, o)
    hol = x[:, [IDX[f"holiday_h{h}"] for h in range(1, H + 1)]].max(axis=1) > 0
    md = x[:, [IDX[f"markdown_h{h}"] for h in range(1, H + 1)]].max(axis=1) > 0
    holiday_weeks = sorted({label_date(int(t), "week").isoformat() for t in range(first_origin + 1, last_origin + H + 1)
                            if data.holiday[data.bucket_index(t)]})
    summary = {
        "rows": int(len(x)),
        "windows": f"origins {label_date(first_origin, 'week')} .. {label_date(last_origin, 'week')} "
                   f"(feature rows use sales <= origin; their targets run to {label_date(last_origin + H, 'week')})",
        "origins": int(last_origin - first_origin + 1),
        "seriesPerOrigin": per_origin if per_origin > 0 else "all",
        "seed": seed,
        "source": "walmart2014 train.csv + features.csv, the production feature builder (forecast_training.features)",
        "includesHolidays": bool(hol.any()),
        "holidayRows": int(hol.sum()),
        "holidayWeeks": holiday_weeks,
        "includesPromotions": bool(md.any()),
        "markdownRows": int(md.sum()),
    }
    return x, summary


def held_back(data, first_target: int, last_target: int, statistical_meta: dict | None) -> dict:
    n = len(data.series_ids)
    origins = np.arange(first_target - H, last_target)
    rows = np.repeat(np.arange(n), len(origins))
    orig = np.tile(origins, n)
    actual = np.zeros((len(rows), H))
    ok = np.zeros((len(rows), H), dtype=bool)
    for h in range(1, H + 1):
        t = orig + h
        b = t - data.dense.first_bucket
        ok[:, h - 1] = data.has_row[rows, b] & (t >= first_target) & (t <= last_target)
        actual[:, h - 1] = data.dense.sales[rows, b]
    keep = ok.any(axis=1)
    rows, orig, actual, ok = rows[keep], orig[keep], actual[keep], ok[keep]
    x = build_features(data.dense, rows, orig)
    stat = None
    if statistical_meta is not None:
        from forecast_training import walmart_stl

        if statistical_meta.get("method") != "stl-ses":
            raise SystemExit(f"statistical component {statistical_meta.get('method')}: not implemented here")
        log(f"statistical component (stl-ses) for {len(rows)} held-back rows ...")
        stat = walmart_stl.statistical(data, rows, orig)
    return {"x": x, "actual": actual, "ok": ok, "rows": rows, "origins": orig, "stat": stat,
            "scale": np.exp(x[:, IDX["log_scale"]].astype(np.float64)),
            "md": x[:, [IDX[f"markdown_h{h}"] for h in range(1, H + 1)]] > 0,
            "holiday": x[:, [IDX[f"holiday_h{h}"] for h in range(1, H + 1)]] > 0}


def run_cpu(model: onnx.ModelProto, x: np.ndarray, batch: int = 8192) -> np.ndarray:
    so = ort.SessionOptions()
    so.log_severity_level = 3
    so.intra_op_num_threads = 1
    s = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    return np.concatenate([s.run(None, {name: x[i:i + batch]})[0] for i in range(0, len(x), batch)]).astype(np.float64)


class Runtime:
    """Runs graphs the way the processor does: onnxruntime-node (ort-node-run.mjs: CPU, 1 thread,
    graphOptimizationLevel 'all') when node and the repo's node_modules are there, else Python's
    onnxruntime (whose QDQ fusions differ by version: parity vectors from it may not match)."""

    def __init__(self, which: str):
        import shutil

        self.node = shutil.which("node")
        have_node = self.node is not None and (ROOT / "node_modules/onnxruntime-node/package.json").exists()
        if which == "node" and not have_node:
            raise SystemExit("--runtime node: node or node_modules/onnxruntime-node not found (npm ci)")
        self.use_node = have_node and which != "python"
        self.name = f"onnxruntime {ort.__version__} (Python) CPUExecutionProvider"
        if self.use_node:
            version = json.loads((ROOT / "node_modules/onnxruntime-node/package.json").read_text())["version"]
            self.name = f"onnxruntime-node {version} CPU provider, 1 thread, graphOptimizationLevel all (the processor's worker)"

    def run(self, model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
        if not self.use_node:
            return run_cpu(model, x)
        import subprocess

        with tempfile.TemporaryDirectory() as tmp:
            t = Path(tmp)
            (t / "m.onnx").write_bytes(model.SerializeToString())
            np.ascontiguousarray(x, dtype=np.float32).tofile(t / "x.f32")
            subprocess.run([self.node, str(ROOT / "training/tools/ort-node-run.mjs"), str(t / "m.onnx"), str(t / "x.f32"),
                            str(len(x)), str(x.shape[1]), str(t / "y.f32")], check=True, stdout=subprocess.DEVNULL)
            y = np.fromfile(t / "y.f32", dtype=np.float32)
        return y.reshape(len(x), -1, 3).astype(np.float64)


def served(q: np.ndarray, hb: dict, meta: dict) -> np.ndarray:
    if hb["stat"] is None:
        return q
    from forecast_training import walmart_stl

    st = meta["statistical"]
    return walmart_stl.blend(q, hb["stat"], st["kLo"], st["kHi"], st["weight"])


def wape(p: np.ndarray, hb: dict, mask: np.ndarray | None = None) -> float:
    ok = hb["ok"] if mask is None else hb["ok"] & mask
    return float(np.abs(hb["actual"] - p[:, :, 1])[ok].sum() / np.abs(hb["actual"])[ok].sum())


def gate(base: np.ndarray, var: np.ndarray, hb: dict, precision: str, tolerance: float, held_label: str, runtime: str) -> dict:
    b_w, v_w = wape(base, hb), wape(var, hb)
    rel = (v_w - b_w) / b_w
    d = np.abs(var - base)
    denom = np.maximum(np.abs(base), hb["scale"][:, None, None])
    r = d / denom
    at = np.unravel_index(int(np.argmax(r)), r.shape)
    finite = bool(np.isfinite(var).all())
    ordered = bool((var[:, :, 0] <= var[:, :, 1] + 1e-6).all() and (var[:, :, 1] <= var[:, :, 2] + 1e-6).all() and (var >= 0).all())
    def coverage(p):
        ok = hb["ok"]
        return float(((hb["actual"] >= p[:, :, 0]) & (hb["actual"] <= p[:, :, 2]))[ok].mean())
    sub = {}
    for key, mask in (("holidayTargets", hb["holiday"]), ("markdownTargets", hb["md"])):
        if (hb["ok"] & mask).any():
            bw, vw = wape(base, hb, mask), wape(var, hb, mask)
            sub[key] = {"pairs": int((hb["ok"] & mask).sum()), "baseWape": round(bw, 6), "wape": round(vw, 6), "relChange": round((vw - bw) / bw, 6)}
    passed = bool(abs(rel) < MAX_REL_CHANGE and float(r.max()) <= tolerance and finite and ordered)
    return {
        "heldBack": held_label,
        "pairs": int(hb["ok"].sum()),
        "rows": int(len(base)),
        "metric": "WAPE of the served p50: sum|y - p50| / sum|y| over (series, origin, horizon) pairs with a sale row",
        "runtime": f"{runtime}, FP32 and variant alike",
        "baseWape": round(b_w, 6),
        "wape": round(v_w, 6),
        "relChange": round(rel, 6),
        "maxRelChange": MAX_REL_CHANGE,
        "maxAbsDiff": round(float(d.max()), 4),
        "maxRelDiff": round(float(r.max()), 6),
        "p99RelDiff": round(float(np.quantile(r, 0.99)), 6),
        "meanRelDiff": round(float(r.mean()), 7),
        "relDiffDefinition": "|variant - fp32| / max(|fp32|, s), s = exp(log_scale) the series scale, over every output (4 horizons x p10/p50/p90) of the held-back rows",
        "worst": {"series": int(hb["rows"][at[0]]), "origin": label_date(int(hb["origins"][at[0]]), "week").isoformat(),
                  "horizon": int(at[1]) + 1, "quantile": ["p10", "p50", "p90"][int(at[2])],
                  "fp32": round(float(base[at]), 3), "variant": round(float(var[at]), 3), "scale": round(float(hb["scale"][at[0]]), 3)},
        "tolerance": tolerance,
        "coverageP10P90": {"base": round(coverage(base), 5), "variant": round(coverage(var), 5)},
        "finite": finite,
        "ordered": ordered,
        "subsets": sub,
        "passed": passed,
        "precision": precision,
    }


# ---------------------------------------------------------------------------------------------


def parity(model: onnx.ModelProto, x: np.ndarray, precision: str, rt: Runtime) -> dict:
    y = rt.run(model, x)
    return {
        "about": f"feature rows (real held-back rows + test/vectors/features.json) and the outputs this {precision} graph gives "
                 f"for them ({rt.name}); checked at load",
        "rows": int(x.shape[0]), "tolerance": PARITY_TOLERANCE[precision],
        "features": [float(v) for v in x.ravel()], "outputs": [float(v) for v in y.ravel()],
    }


def parity_rows(hb: dict, vectors: Path, width: int, n_real: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    special = np.flatnonzero(hb["md"].any(axis=1) & hb["holiday"].any(axis=1))
    pick = list(rng.choice(special, min(len(special), n_real // 2), replace=False)) if len(special) else []
    rest = rng.choice(len(hb["x"]), n_real - len(pick), replace=False)
    real = hb["x"][np.sort(np.concatenate([np.array(pick, dtype=np.int64), rest]))]
    cases = json.loads(vectors.read_text())["cases"]
    vec = np.array([c["expected"] for c in cases if isinstance(c.get("expected"), list) and len(c["expected"]) == width], dtype=np.float32)
    return np.concatenate([real, vec]).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from", dest="src", required=True, type=Path, help="a version folder (model.json + model.onnx)")
    ap.add_argument("--out", required=True, type=Path, help="folder that receives <version>-<precision>/ (e.g. engines/<name>)")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/walmart2014")
    ap.add_argument("--precisions", default="fp16,int8")
    ap.add_argument("--held-back", default="2012-01-06:2012-04-27", help="first:last target week of the gate's window")
    ap.add_argument("--calibration", default="2011-02-04:2011-12-02", help="first:last origin of the INT8 calibration rows")
    ap.add_argument("--calibration-series", type=int, default=0, help="series sampled per calibration origin (default 0: every series that has sold by then)")
    ap.add_argument("--allow-no-promotions", action="store_true",
                    help="calibrate on a window without markdown rows (a study; the processor refuses such an INT8 variant)")
    ap.add_argument("--no-equalize", action="store_true", help="INT8 without the per-column range equalisation of the network input")
    ap.add_argument("--calibration-method", choices=["minmax", "percentile", "entropy"], default="minmax")
    ap.add_argument("--int8-ops", choices=["matmul", "all"], default="matmul",
                    help="matmul: the network's MatMul nodes; all: every op ORT quantizes (fails the gate: for tests)")
    ap.add_argument("--suffix", default="", help="appended to the version folder name (e.g. -allops)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tolerance-fp16", type=float, default=TOLERANCE["fp16"])
    ap.add_argument("--tolerance-int8", type=float, default=TOLERANCE["int8"])
    ap.add_argument("--keep-failed", action="store_true", help="write a variant that fails the gate too (passed: false)")
    ap.add_argument("--dump-rows", type=Path, default=None, help="also write the held-back rows (features, actuals, FP32 output) for benches")
    ap.add_argument("--vectors", type=Path, default=ROOT / "test/vectors/features.json")
    ap.add_argument("--runtime", choices=["auto", "node", "python"], default="auto",
                    help="what runs the gate and the parity vectors: onnxruntime-node as the processor (auto: when present) or Python's onnxruntime")
    ap.add_argument("--report", type=Path, default=None, help="write the gate results of every variant as JSON")
    a = ap.parse_args()
    t0 = time.time()

    meta = json.loads((a.src / "model.json").read_text())
    model = onnx.load(str(a.src / meta["file"]))
    refuse_trees(model, str(a.src))
    if meta.get("variant", {}).get("precision"):
        raise SystemExit(f"{a.src} is already a {meta['variant']['precision']} variant; derive from the FP32 version")
    if meta.get("featureSpec", {}).get("family", "walmart-weekly") != "walmart-weekly":
        raise SystemExit("only the walmart-weekly feature family has a calibration/held-back builder here")

    data = load_walmart(a.data)
    hb_first, hb_last = window_arg(a.held_back)
    cal_first, cal_last = window_arg(a.calibration)
    if cal_last + H >= hb_first:  # the same as: a calibration origin is a held-back origin (>= hb_first - H)
        raise SystemExit(f"calibration rows' targets reach {label_date(cal_last + H, 'week')}, inside the held-back window")
    held_label = f"targets {label_date(hb_first, 'week')} .. {label_date(hb_last, 'week')} (origins {label_date(hb_first - H, 'week')} .. {label_date(hb_last - 1, 'week')}), walmart2014"
    hb = held_back(data, hb_first, hb_last, meta.get("statistical"))
    log(f"[{time.time() - t0:5.1f}s] held back: {held_label}, {int(hb['ok'].sum())} pairs, {len(hb['x'])} rows")
    rt = Runtime(a.runtime)
    log(f"gate runtime: {rt.name}")
    base = served(rt.run(model, hb["x"]), hb, meta)

    src_name = f"{meta['name']}/{meta['version']}"
    precisions = [p for p in a.precisions.split(",") if p]
    results, failed = {}, False
    for precision in precisions:
        calib = None
        if precision == "fp16":
            var_model, conv = to_fp16(model)
        elif precision == "int8":
            cx, calib = calibration_rows(data, cal_first, cal_last, a.calibration_series, a.seed)
            if not calib["includesHolidays"] or not (calib["includesPromotions"] or a.allow_no_promotions):
                raise SystemExit(f"calibration window holds no {'holiday' if not calib['includesHolidays'] else 'markdown'} rows: widen --calibration")
            log(f"[{time.time() - t0:5.1f}s] int8 calibration: {calib['rows']} rows, {calib['holidayRows']} with a holiday target week, {calib['markdownRows']} with markdowns")
            var_model, conv = to_int8(model, cx, a.int8_ops, a.calibration_method, not a.no_equalize)
        else:
            raise SystemExit(f"unknown precision {precision} (fp16, int8)")
        tol = a.tolerance_fp16 if precision == "fp16" else a.tolerance_int8
        var = served(rt.run(var_model, hb["x"]), hb, meta)
        g = gate(base, var, hb, precision, tol, held_label, rt.name)
        g.pop("precision")
        g["calibration"] = calib
        results[precision] = {"gate": g, "conversion": conv}
        log(f"[{time.time() - t0:5.1f}s] {precision}: WAPE {g['baseWape']:.6f} -> {g['wape']:.6f} (rel {g['relChange']:+.3%}), "
            f"max |diff| {g['maxAbsDiff']:.2f}, max rel diff {g['maxRelDiff']:.2e} (tolerance {tol}): {'PASS' if g['passed'] else 'FAIL'}")
        if not g["passed"]:
            failed = True
            if not a.keep_failed:
                log(f"  {precision} not written (use --keep-failed to write it with passed: false)")
                continue
        version = f"{meta['version']}-{precision}{a.suffix}"
        dst = a.out / version
        dst.mkdir(parents=True, exist_ok=True)
        for extra in a.src.iterdir():
            if extra.is_file() and extra.name not in ("model.json", meta["file"], "parity.json"):
                (dst / extra.name).write_bytes(extra.read_bytes())
        data_bytes = var_model.SerializeToString()
        (dst / meta["file"]).write_bytes(data_bytes)
        (dst / "parity.json").write_text(json.dumps(parity(var_model, parity_rows(hb, a.vectors, meta["input"]["shape"][1], 40, a.seed), precision, rt)))
        vmeta = copy.deepcopy(meta)
        vmeta["version"] = version
        vmeta["sha256"] = hashlib.sha256(data_bytes).hexdigest()
        vmeta["variant"] = {
            "precision": precision,
            "from": src_name,
            "fromSha256": meta["sha256"],
            "tool": "training/tools/make_precision_variants.py",
            "made": dt.date.today().isoformat(),
            "conversion": conv,
            "gate": g,
        }
        (dst / "model.json").write_text(json.dumps(vmeta, indent=2) + "\n")
        results[precision]["dir"] = str(dst)
        log(f"  wrote {dst} ({len(data_bytes)} bytes)")

    if a.dump_rows:
        a.dump_rows.mkdir(parents=True, exist_ok=True)
        hb["x"].astype(np.float32).tofile(a.dump_rows / "heldback.f32")
        np.where(hb["ok"], hb["actual"], np.nan).astype(np.float32).tofile(a.dump_rows / "heldback-actual.f32")
        base.astype(np.float32).tofile(a.dump_rows / "heldback-fp32.f32")
        (a.dump_rows / "heldback.json").write_text(json.dumps({
            "rows": int(len(hb["x"])), "features": int(hb["x"].shape[1]), "horizons": H, "heldBack": held_label,
            "from": src_name, "files": {"heldback.f32": "features float32 [rows, features]",
                                        "heldback-actual.f32": "actuals float32 [rows, H], NaN where not scored",
                                        "heldback-fp32.f32": "FP32 output float32 [rows, H, 3] (python onnxruntime CPU)"}}, indent=2))
    if a.report:
        a.report.write_text(json.dumps({"from": src_name, "heldBack": held_label, "results": results}, indent=2) + "\n")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
