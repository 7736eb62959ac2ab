#!/usr/bin/env python3
"""Derive a new model version from an existing one, for the model-lifecycle tests and demos.

    python3 training/tools/make_variant.py --from engines/walmart-mlp/3-2012-04-27 \
        --to test/fixtures/lifecycle/walmart-mlp/4-2012-04-27 --version 4-2012-04-27 --scale 1.03

- ``--scale S``: a real ONNX graph whose quantile outputs are the source model's times S (a Mul
  node appended to the graph): 1.03 is a healthy retrain-sized change, 3 a broken version whose
  output drifts. ``--break-spec`` writes a feature-spec hash this build does not compute (a model
  trained on other features: it must be refused at load).
- ``--slow-iterations N``: the same outputs, but every call first runs a Loop of N 64×64 matrix
  products whose result is folded into the output times zero (so it cannot be pruned): a real
  graph that is slow on every call (a version whose latency spikes).
- ``--fail-above FROM:TO:THRESHOLD``: the same outputs, but a run fails (an out-of-range Gather:
  onnxruntime errors) whenever any row's feature columns FROM..TO-1 exceed THRESHOLD — a real graph
  that breaks on inputs its load-time sample did not contain (columns 20:24 are the walmart-weekly
  promotion depths: it breaks once a promotion is announced).
- Every variant ships ``parity.json``: feature rows and the outputs the graph gives for them,
  computed here with ONNX's reference evaluator (not onnxruntime), so the processor can check at
  load that its runtime computes the same numbers (the parity check of a hot swap).
Needs only ``pip install onnx numpy``.
"""
import argparse
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator


def reroute_output(g: onnx.GraphProto, suffix: str) -> tuple[str, str]:
    """Rename what produced the graph's output to an inner tensor; the caller builds the output from it."""
    out = g.output[0].name
    inner = out + suffix
    for node in g.node:
        node.output[:] = [inner if o == out else o for o in node.output]
    return out, inner


def scaled(model: onnx.ModelProto, scale: float) -> onnx.ModelProto:
    g = model.graph
    out, inner = reroute_output(g, "_unscaled")
    g.initializer.append(numpy_helper.from_array(np.array(scale, dtype=np.float32), name="variant_scale"))
    g.node.append(helper.make_node("Mul", [inner, "variant_scale"], [out], name="variant_scale_mul"))
    onnx.checker.check_model(model)
    return model


def slowed(model: onnx.ModelProto, iterations: int) -> onnx.ModelProto:
    g = model.graph
    out, inner = reroute_output(g, "_fast")
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((64, 64)) / 8).astype(np.float32)
    g.initializer.extend([
        numpy_helper.from_array(np.array(iterations, dtype=np.int64), name="slow_trips"),
        numpy_helper.from_array(np.array(True), name="slow_cond"),
        numpy_helper.from_array(np.eye(64, dtype=np.float32), name="slow_x0"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), name="slow_zero"),
    ])
    body = helper.make_graph(
        [helper.make_node("MatMul", ["x_in", "slow_w"], ["x_mm"]), helper.make_node("Tanh", ["x_mm"], ["x_out"]),
         helper.make_node("Identity", ["cond_in"], ["cond_out"])],
        "slow_body",
        [helper.make_tensor_value_info("iter", onnx.TensorProto.INT64, []), helper.make_tensor_value_info("cond_in", onnx.TensorProto.BOOL, []),
         helper.make_tensor_value_info("x_in", onnx.TensorProto.FLOAT, [64, 64])],
        [helper.make_tensor_value_info("cond_out", onnx.TensorProto.BOOL, []), helper.make_tensor_value_info("x_out", onnx.TensorProto.FLOAT, [64, 64])],
        [numpy_helper.from_array(w, name="slow_w")],
    )
    g.node.extend([
        helper.make_node("Loop", ["slow_trips", "slow_cond", "slow_x0"], ["slow_x"], body=body, name="slow_loop"),
        helper.make_node("ReduceSum", ["slow_x"], ["slow_sum"], keepdims=0),
        helper.make_node("Mul", ["slow_sum", "slow_zero"], ["slow_nothing"]),
        helper.make_node("Add", [inner, "slow_nothing"], [out], name="slow_add"),
    ])
    onnx.checker.check_model(model)
    return model


def failing(model: onnx.ModelProto, start: int, end: int, threshold: float, input_name: str) -> onnx.ModelProto:
    g = model.graph
    out, inner = reroute_output(g, "_ok")
    g.initializer.extend([
        numpy_helper.from_array(np.array([start], dtype=np.int64), name="fail_starts"),
        numpy_helper.from_array(np.array([end], dtype=np.int64), name="fail_ends"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), name="fail_axes"),
        numpy_helper.from_array(np.array(threshold, dtype=np.float32), name="fail_threshold"),
        numpy_helper.from_array(np.array([0.0], dtype=np.float32), name="fail_data"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), name="fail_zero"),
    ])
    g.node.extend([
        helper.make_node("Slice", [input_name, "fail_starts", "fail_ends", "fail_axes"], ["fail_cols"]),
        helper.make_node("ReduceMax", ["fail_cols"], ["fail_max"], keepdims=0),
        helper.make_node("Greater", ["fail_max", "fail_threshold"], ["fail_over"]),
        helper.make_node("Cast", ["fail_over"], ["fail_index"], to=onnx.TensorProto.INT64),
        # index 1 of a one-element tensor: onnxruntime refuses the run
        helper.make_node("Gather", ["fail_data", "fail_index"], ["fail_gathered"], axis=0),
        helper.make_node("Mul", ["fail_gathered", "fail_zero"], ["fail_nothing"]),
        helper.make_node("Add", [inner, "fail_nothing"], [out], name="fail_add"),
    ])
    onnx.checker.check_model(model)
    return model


def parity_rows(vectors: Path, width: int, rows: int) -> np.ndarray:
    cases = json.loads(vectors.read_text())["cases"]
    feats = [c["expected"] for c in cases if isinstance(c.get("expected"), list) and len(c["expected"]) == width]
    if not feats:
        raise SystemExit(f"{vectors}: no feature rows of width {width}")
    while len(feats) < rows:
        feats = feats + feats
    return np.array(feats[:rows], dtype=np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--from", dest="src", required=True, type=Path)
    ap.add_argument("--to", dest="dst", required=True, type=Path)
    ap.add_argument("--version", required=True)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--break-spec", action="store_true")
    ap.add_argument("--slow-iterations", type=int, default=0)
    ap.add_argument("--fail-above", default="", help="FROM:TO:THRESHOLD")
    ap.add_argument("--vectors", type=Path, default=Path(__file__).resolve().parents[2] / "test/vectors/features.json")
    ap.add_argument("--parity-rows", type=int, default=16)
    a = ap.parse_args()

    meta = json.loads((a.src / "model.json").read_text())
    model = onnx.load(str(a.src / meta["file"]))
    if a.scale != 1.0:
        model = scaled(model, a.scale)
    if a.slow_iterations > 0:
        model = slowed(model, a.slow_iterations)
    if a.fail_above:
        f_from, f_to, f_thr = a.fail_above.split(":")
        model = failing(model, int(f_from), int(f_to), float(f_thr), meta["input"]["name"])
    a.dst.mkdir(parents=True, exist_ok=True)
    for extra in a.src.iterdir():
        if extra.name not in ("model.json", meta["file"], "parity.json"):
            shutil.copy(extra, a.dst / extra.name)
    onnx.save(model, str(a.dst / meta["file"]))
    data = (a.dst / meta["file"]).read_bytes()

    width = meta["input"]["shape"][1]
    x = parity_rows(a.vectors, width, a.parity_rows * 4)
    if a.fail_above:
        # parity rows the graph answers (a failing variant still passes its load-time checks)
        x = x[x[:, int(f_from):int(f_to)].max(axis=1) <= float(f_thr)]
    x = x[: a.parity_rows]
    (y,) = ReferenceEvaluator(model).run(None, {meta["input"]["name"]: x})
    (a.dst / "parity.json").write_text(json.dumps({
        "about": "feature rows and the outputs this graph gives for them (ONNX reference evaluator); checked at load",
        "rows": int(x.shape[0]), "tolerance": 1e-3,
        "features": [float(v) for v in x.ravel()], "outputs": [float(v) for v in np.asarray(y).ravel()],
    }))

    meta["version"] = a.version
    meta["sha256"] = hashlib.sha256(data).hexdigest()
    meta["derived"] = {"from": f"{meta['name']}/{a.src.name}", "scale": a.scale, "brokenSpec": a.break_spec, "slowIterations": a.slow_iterations, "failAbove": a.fail_above,
                       "note": "derived by training/tools/make_variant.py for the model-lifecycle tests"}
    if a.break_spec:
        meta["featureSpec"]["hash"] = hashlib.sha256(b"a feature spec this build does not compute").hexdigest()
    (a.dst / "model.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"{a.dst}: {meta['name']}/{a.version} scale {a.scale}{' (broken spec)' if a.break_spec else ''}{f' slow x{a.slow_iterations}' if a.slow_iterations else ''}, parity rows {x.shape[0]}")


if __name__ == "__main__":
    main()
