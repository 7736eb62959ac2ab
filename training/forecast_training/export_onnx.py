"""Writes the trained seasonal-anchor MLP as one ONNX graph with the model contract of
docs/features.md.

input `features` float32 [batch, FEATURE_COUNT] -> output `quantiles` float32 [batch, H, 3]
(p10, p50, p90 in sales units). Inside the graph, mirroring quantile_mlp.derive/forward_net:
year-on-year growth g and the seasonal anchor A_h from the lag / last-year columns, the
network inputs (clamped, standardisation folded into the first layer), two ReLU layers plus
a linear skip, p50 = relu(A + z0), p10 = relu(p50 - softplus(z1)), p90 = p50 + softplus(z2);
then (quantile_mlp.combine) the median combined with the fallback's point forecast and the
calibrated widths around it, times exp(log_scale).
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .feature_spec import FEATURE_COUNT, IDX
from .quantile_mlp import (FB_G_MAX, FB_G_MIN, FB_LEVEL_WEIGHTS, FB_SEASONAL_WEIGHT, G_MAX, G_MIN, LAG_COLS, LY_COLS,
                           NET_WEIGHT, PASS_COLS, QUANTILES, SEASONAL_COLS, MlpParams)

OPSET = 17  # onnxruntime-node 1.30 runs up to opset 23; 17 keeps older runtimes working
IR_VERSION = 8


def to_onnx(p: MlpParams, doc: str) -> onnx.ModelProto:
    # (clip(f) - mean) / std @ W + b == clip(f) @ (W / std[:, None]) + (b - (mean / std) @ W)
    w1 = p.w1 / p.std[:, None]
    b1 = p.b1 - (p.mean / p.std) @ p.w1
    wl = p.wl / p.std[:, None]
    b3 = p.b3 - (p.mean / p.std) @ p.wl
    H, Q = p.horizons, len(QUANTILES)
    f32 = lambda a, name: numpy_helper.from_array(np.asarray(a, dtype=np.float32), name)
    i64 = lambda a, name: numpy_helper.from_array(np.asarray(a, dtype=np.int64), name)
    inits = [
        f32(w1, "w1"), f32(b1, "b1"), f32(p.w2, "w2"), f32(p.b2, "b2"), f32(p.w3, "w3"), f32(b3, "b3"),
        f32(wl, "wl"), f32(p.lo, "clamp_lo"), f32(p.hi, "clamp_hi"),
        i64(LAG_COLS, "lag_cols"), i64(LY_COLS, "ly_cols"), i64(SEASONAL_COLS, "seasonal_cols"),
        i64(PASS_COLS, "pass_cols"), i64([IDX["log_scale"]], "ls_col"),
        i64([1], "axis1"), f32(0.0, "zero"), f32(1.0, "one"), f32(1.0 / len(LAG_COLS), "one_eighth"),
        f32(G_MIN, "g_min"), f32(G_MAX, "g_max"),
        f32(FB_G_MIN, "fb_g_min"), f32(FB_G_MAX, "fb_g_max"), f32(FB_LEVEL_WEIGHTS.reshape(-1, 1), "fb_level_w"),
        f32(FB_SEASONAL_WEIGHT, "fb_seasonal_w"), f32(1 - FB_SEASONAL_WEIGHT, "fb_level_share"),
        f32(NET_WEIGHT, "net_w"), f32(1 - NET_WEIGHT, "fb_w"), f32(p.k_lo, "k_lo"), f32(p.k_hi, "k_hi"),
        i64([0, H, Q], "out_shape"),  # 0 = keep the batch dimension
        i64([-1, H, 1], "col_shape"), i64([-1, 1, 1], "scale_shape"),
        i64([0], "s0"), i64([1], "s1"), i64([2], "s2"), i64([3], "s3"), i64([2], "ax2"),
    ]
    n = helper.make_node
    nodes = [
        # Growth, anchor and the derived network inputs (quantile_mlp.derive).
        n("Gather", ["features", "lag_cols"], ["lags"], axis=1),
        n("Gather", ["features", "ly_cols"], ["ly"], axis=1),
        n("Gather", ["features", "seasonal_cols"], ["seasonal"], axis=1),
        n("Gather", ["features", "pass_cols"], ["passed"], axis=1),
        n("ReduceSum", ["lags", "axis1"], ["now"], keepdims=1),
        n("ReduceSum", ["ly", "axis1"], ["then"], keepdims=1),
        n("Greater", ["now", "zero"], ["now_pos"]), n("Greater", ["then", "zero"], ["then_pos"]),
        n("And", ["now_pos", "then_pos"], ["has"]),
        n("Where", ["has", "then", "one"], ["then_safe"]),
        n("Div", ["now", "then_safe"], ["ratio"]),
        n("Max", ["ratio", "g_min"], ["ratio_lo"]), n("Min", ["ratio_lo", "g_max"], ["g_clipped"]),
        n("Where", ["has", "g_clipped", "one"], ["g"]),
        n("Mul", ["now", "one_eighth"], ["level"]),
        n("Mul", ["seasonal", "g"], ["seasonal_g"]),
        n("Where", ["has", "seasonal_g", "level"], ["anchor"]),
        n("Mul", ["ly", "g"], ["ly_g"]), n("Sub", ["lags", "ly_g"], ["d_raw"]),
        n("Cast", ["has"], ["has_f"], to=TensorProto.FLOAT),
        n("Mul", ["d_raw", "has_f"], ["d"]),
        n("Log", ["g"], ["log_g"]),
        n("Concat", ["anchor", "d", "log_g", "has_f", "level", "passed"], ["net_in"], axis=1),
        n("Max", ["net_in", "clamp_lo"], ["net_lo"]), n("Min", ["net_lo", "clamp_hi"], ["net_x"]),
        # The network (quantile_mlp.forward_net).
        n("MatMul", ["net_x", "w1"], ["m1"]), n("Add", ["m1", "b1"], ["a1"]), n("Relu", ["a1"], ["h1"]),
        n("MatMul", ["h1", "w2"], ["m2"]), n("Add", ["m2", "b2"], ["a2"]), n("Relu", ["a2"], ["h2"]),
        n("MatMul", ["h2", "w3"], ["m3"]), n("MatMul", ["net_x", "wl"], ["ml"]),
        n("Add", ["m3", "ml"], ["zs"]), n("Add", ["zs", "b3"], ["z"]),
        n("Reshape", ["z", "out_shape"], ["z3"]),
        n("Slice", ["z3", "s0", "s1", "ax2"], ["z_mid"]),
        n("Slice", ["z3", "s1", "s2", "ax2"], ["z_low"]),
        n("Slice", ["z3", "s2", "s3", "ax2"], ["z_high"]),
        n("Reshape", ["anchor", "col_shape"], ["anchor3"]),
        n("Add", ["anchor3", "z_mid"], ["center"]), n("Relu", ["center"], ["net_p50"]),
        n("Softplus", ["z_low"], ["below"]), n("Sub", ["net_p50", "below"], ["net_p10_raw"]),
        n("Relu", ["net_p10_raw"], ["net_p10"]),
        n("Softplus", ["z_high"], ["above"]),
        # The fallback's point forecast (quantile_mlp.fallback_point) and the combination (combine).
        n("Max", ["ratio", "fb_g_min"], ["fb_ratio_lo"]), n("Min", ["fb_ratio_lo", "fb_g_max"], ["fb_g_clipped"]),
        n("Where", ["has", "fb_g_clipped", "one"], ["fb_g"]),
        n("MatMul", ["lags", "fb_level_w"], ["fb_level"]),
        n("Mul", ["seasonal", "fb_g"], ["fb_seasonal_g"]), n("Mul", ["fb_seasonal_g", "fb_seasonal_w"], ["fb_s_part"]),
        n("Mul", ["fb_level", "fb_level_share"], ["fb_l_part"]), n("Add", ["fb_s_part", "fb_l_part"], ["fb_blend"]),
        n("Where", ["has", "fb_blend", "fb_level"], ["fb_raw"]), n("Relu", ["fb_raw"], ["fb_point"]),
        n("Reshape", ["fb_point", "col_shape"], ["fb_point3"]),
        n("Mul", ["net_p50", "net_w"], ["mid_net"]), n("Mul", ["fb_point3", "fb_w"], ["mid_fb"]),
        n("Add", ["mid_net", "mid_fb"], ["p50"]),
        n("Sub", ["net_p50", "net_p10"], ["net_lo_w"]), n("Mul", ["net_lo_w", "k_lo"], ["lo_w"]),
        n("Sub", ["p50", "lo_w"], ["p10_raw"]), n("Relu", ["p10_raw"], ["p10"]),
        n("Mul", ["above", "k_hi"], ["hi_w"]), n("Add", ["p50", "hi_w"], ["p90"]),
        n("Concat", ["p10", "p50", "p90"], ["qn"], axis=2),
        n("Gather", ["features", "ls_col"], ["log_scale"], axis=1),
        n("Exp", ["log_scale"], ["scale"]),
        n("Reshape", ["scale", "scale_shape"], ["scale3"]),
        n("Mul", ["qn", "scale3"], ["quantiles"]),
    ]
    graph = helper.make_graph(
        nodes, "seasonal_anchor_quantile_mlp",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", FEATURE_COUNT])],
        [helper.make_tensor_value_info("quantiles", TensorProto.FLOAT, ["batch", H, Q])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="forecast-stream-training", doc_string=doc)
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model
