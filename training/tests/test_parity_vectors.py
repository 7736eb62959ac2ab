import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from forecast_training.parity_vectors import walmart_rows, write_parity

DATA = Path(__file__).resolve().parents[2].parent / "shared/data/walmart2014"


def doubling_graph(width: int) -> bytes:
    g = helper.make_graph(
        [helper.make_node("Mul", ["features", "two"], ["quantiles"])], "double",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, width])],
        [helper.make_tensor_value_info("quantiles", TensorProto.FLOAT, [None, width])],
        [numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=9).SerializeToString()


def test_writes_rows_and_the_graphs_outputs_exactly_as_float32(tmp_path):
    x = np.array([[0.1, 1e-7, 12345.678], [3.0, -2.5, 1 / 3]], dtype=np.float32)
    doc = write_parity(tmp_path, doubling_graph(3), x, source="test", reference=2.0 * x.astype(np.float64) + 1e-3)
    back = json.loads((tmp_path / "parity.json").read_text())
    assert back["rows"] == 2 and back["tolerance"] == doc["tolerance"]
    # 9 significant digits keep every float32 value
    assert np.array_equal(np.array(back["features"], dtype=np.float32), x.ravel())
    assert np.array_equal(np.array(back["outputs"], dtype=np.float32), (2 * x).ravel())
    assert back["training"]["maxAbsDiff"] == pytest.approx(1e-3, rel=1e-3)


@pytest.mark.skipif(not DATA.is_dir(), reason="needs ../shared/data/walmart2014 (development data)")
def test_walmart_rows_are_real_distinct_series_at_two_origins():
    from forecast_training.train import week_of
    from forecast_training.walmart import load_walmart, truncate_sales

    data = load_walmart(str(DATA))
    last = week_of("2012-04-27")
    truncate_sales(data, last)
    x = walmart_rows(data, last)
    assert x.shape == (96, 45)
    assert len({tuple(r) for r in x}) == 96
    # the same rows on every export (a fixed seed)
    assert np.array_equal(x, walmart_rows(data, last))
