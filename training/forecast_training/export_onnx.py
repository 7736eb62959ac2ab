"""Writes the trained MLP as one ONNX graph with the model contract of docs/features.md.

input `features` float32 [batch, 38] -> output `quantiles` float32 [batch, H, 3]
(p10, p50, p90 in sales units). Inside the graph: the input standardisation folded into
the first layer, two ReLU layers plus a linear skip, softplus + cumulative sum over the
quantile axis (non-negative and ordered), times exp(log_scale) (de-normalised).
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .feature_spec import FEATURE_COUNT, IDX
from .quantile_mlp import QUANTILES, MlpParams

OPSET = 17  # onnxruntime-node 1.30 runs up to opset 23; 17 keeps older runtimes working
IR_VERSION = 8


def to_onnx(p: MlpParams, doc: str) -> onnx.ModelProto:
    # (x - mean) / std @ W + b == x @ (W / std[:, None]) + (b - (mean / std) @ W)
    w1 = p.w1 / p.std[:, None]
    b1 = p.b1 - (p.mean / p.std) @ p.w1
    wl = p.wl / p.std[:, None]
    b3 = p.b3 - (p.mean / p.std) @ p.wl
    f32 = lambda a, name: numpy_helper.from_array(np.asarray(a, dtype=np.float32), name)
    i64 = lambda a, name: numpy_helper.from_array(np.asarray(a, dtype=np.int64), name)
    inits = [
        f32(w1, "w1"), f32(b1, "b1"), f32(p.w2, "w2"), f32(p.b2, "b2"), f32(p.w3, "w3"), f32(b3, "b3"),
        f32(wl, "wl"),
        i64([0, p.horizons, len(QUANTILES)], "out_shape"),  # 0 = keep the batch dimension
        i64([IDX["log_scale"]], "ls_start"), i64([IDX["log_scale"] + 1], "ls_end"), i64([1], "ls_axis"),
        i64([-1, 1, 1], "scale_shape"), i64(2, "quantile_axis"),
    ]
    n = helper.make_node
    nodes = [
        n("MatMul", ["features", "w1"], ["m1"]), n("Add", ["m1", "b1"], ["a1"]), n("Relu", ["a1"], ["h1"]),
        n("MatMul", ["h1", "w2"], ["m2"]), n("Add", ["m2", "b2"], ["a2"]), n("Relu", ["a2"], ["h2"]),
        n("MatMul", ["h2", "w3"], ["m3"]), n("MatMul", ["features", "wl"], ["ml"]),
        n("Add", ["m3", "ml"], ["zs"]), n("Add", ["zs", "b3"], ["z"]),
        n("Reshape", ["z", "out_shape"], ["z3"]),
        n("Softplus", ["z3"], ["inc"]),
        n("CumSum", ["inc", "quantile_axis"], ["qn"]),
        n("Slice", ["features", "ls_start", "ls_end", "ls_axis"], ["log_scale"]),
        n("Exp", ["log_scale"], ["scale"]),
        n("Reshape", ["scale", "scale_shape"], ["scale3"]),
        n("Mul", ["qn", "scale3"], ["quantiles"]),
    ]
    graph = helper.make_graph(
        nodes, "quantile_mlp",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", FEATURE_COUNT])],
        [helper.make_tensor_value_info("quantiles", TensorProto.FLOAT, ["batch", p.horizons, len(QUANTILES)])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="forecast-stream-training", doc_string=doc)
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model
