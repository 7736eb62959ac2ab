#!/usr/bin/env python3
"""Stand-in ONNX models with the processor's model contract, for the GPU benchmark and tests.

Contract (docs/features.md): input `features` float32 [batch, F], output `quantiles` float32
[batch, 4, 3] (p10, p50, p90 in sales units), non-negative and ordered; the graph
de-normalises with exp(log_scale) where log_scale is feature 14.

Models written (weights are random with He scaling and a fixed seed: the benchmark measures
speed and GPU-vs-CPU agreement, not accuracy):

  prod.onnx        the production shape: F = 38, MLP 38 -> 256 -> 256 -> 12
  heavy.onnx       a larger network over a longer window: F = 38 + 364 daily lags = 402,
                   MLP 402 -> 2048 -> 2048 -> 2048 -> 12
  *.fp16.onnx      the same weights in float16, float32 input/output (Cast at both ends,
                   the quantile head stays float32): what `fp16: true` loads on a GPU provider
  tiny.onnx        (--tiny) 38 -> 8 -> 12, a few kB, for unit tests

Only `onnx` and `numpy` are needed (both exist on the GPU machine and in a plain venv).
Usage: make_models.py OUT_DIR [--tiny-only]
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HORIZON = 4
QUANTILES = 3
LOG_SCALE_INDEX = 14
OPSET = 17


def mlp_model(name: str, n_in: int, hidden: list[int], fp16: bool, seed: int) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    wdtype = np.float16 if fp16 else np.float32
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []

    x = "features"
    if fp16:
        nodes.append(helper.make_node("Cast", ["features"], ["x16"], to=TensorProto.FLOAT16))
        x = "x16"
    dims = [n_in, *hidden, HORIZON * QUANTILES]
    for i in range(len(dims) - 1):
        w = (rng.standard_normal((dims[i], dims[i + 1])) * np.sqrt(2.0 / dims[i])).astype(np.float32)
        b = (rng.standard_normal(dims[i + 1]) * 0.01).astype(np.float32)
        inits.append(numpy_helper.from_array(w.astype(wdtype), f"w{i}"))
        inits.append(numpy_helper.from_array(b.astype(wdtype), f"b{i}"))
        nodes.append(helper.make_node("MatMul", [x, f"w{i}"], [f"mm{i}"]))
        nodes.append(helper.make_node("Add", [f"mm{i}", f"b{i}"], [f"a{i}"]))
        x = f"a{i}"
        if i < len(dims) - 2:
            nodes.append(helper.make_node("Relu", [x], [f"h{i}"]))
            x = f"h{i}"
    if fp16:
        nodes.append(helper.make_node("Cast", [x], ["raw32"], to=TensorProto.FLOAT))
        x = "raw32"

    # Quantile head (float32): p10 = softplus(r0), p50 = p10 + softplus(r1), p90 = p50 + softplus(r2)
    # (non-negative and ordered by construction), times exp(log_scale) to return sales units.
    inits += [
        numpy_helper.from_array(np.array([-1, HORIZON, QUANTILES], dtype=np.int64), "shape3"),
        numpy_helper.from_array(np.array(2, dtype=np.int64), "axis2"),
        numpy_helper.from_array(np.array([LOG_SCALE_INDEX], dtype=np.int64), "ls_idx"),
        numpy_helper.from_array(np.array([-1, 1, 1], dtype=np.int64), "shape_b11"),
    ]
    nodes += [
        helper.make_node("Reshape", [x, "shape3"], ["r"]),
        helper.make_node("Softplus", ["r"], ["sp"]),
        helper.make_node("CumSum", ["sp", "axis2"], ["q_norm"]),
        helper.make_node("Gather", ["features", "ls_idx"], ["ls"], axis=1),
        helper.make_node("Exp", ["ls"], ["scale"]),
        helper.make_node("Reshape", ["scale", "shape_b11"], ["scale3"]),
        helper.make_node("Mul", ["q_norm", "scale3"], ["quantiles"]),
    ]
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", n_in])],
        [helper.make_tensor_value_info("quantiles", TensorProto.FLOAT, ["batch", HORIZON, QUANTILES])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="forecast-stream bench/gpu")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


SPECS = {
    "prod": (38, [256, 256], 1),
    "heavy": (38 + 364, [2048, 2048, 2048], 2),
}


def main() -> None:
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    if "--tiny-only" not in sys.argv:
        for name, (n_in, hidden, seed) in SPECS.items():
            for fp16 in (False, True):
                m = mlp_model(name, n_in, hidden, fp16, seed)
                path = os.path.join(out, f"{name}{'.fp16' if fp16 else ''}.onnx")
                onnx.save(m, path)
                print(f"wrote {path} ({os.path.getsize(path)} bytes)")
    tiny = mlp_model("tiny", 38, [8], False, 3)
    path = os.path.join(out, "tiny.onnx")
    onnx.save(tiny, path)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
