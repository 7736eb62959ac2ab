"""Writes parity.json for model versions already exported (the training scripts write it themselves
on every export): the same real feature rows the export would use, and the outputs Python
onnxruntime gives for them on the version's graph. The graph is not touched.

    training/.venv/bin/python training/tools/write_parity.py engines/walmart-gbm/1-2012-04-27 ...

Family from model.json (walmart-weekly: the Walmart data, m5-daily: the M5 data); the rows come
from the origins just before the version's trainUntil. Default data: ../shared/data/<dataset>.
"""
import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training"))

from forecast_training.parity_vectors import m5_rows, walmart_rows, write_parity  # noqa: E402


def rows_for(meta: dict, data_dir: str | None):
    family = meta["featureSpec"].get("family", "walmart-weekly")
    until = meta["training"]["trainUntil"]
    if family == "m5-daily":
        from forecast_training.m5.data import load
        from forecast_training.m5.features import day_index

        return m5_rows(load(data_dir or ROOT.parent / "shared/data/m5-daily"), day_index(until)), "m5-daily"
    from forecast_training.train import week_of
    from forecast_training.walmart import load_walmart, truncate_sales

    data = load_walmart(data_dir or str(ROOT.parent / "shared/data/walmart2014"))
    truncate_sales(data, week_of(until))
    return walmart_rows(data, week_of(until)), "walmart2014"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("versions", nargs="+", type=Path, help="engines/<name>/<version> folders")
    ap.add_argument("--data", default=None, help="the dataset folder (default ../shared/data/<dataset>)")
    a = ap.parse_args()
    for d in a.versions:
        meta = json.loads((d / "model.json").read_text())
        graph = (d / meta["file"]).read_bytes()
        if hashlib.sha256(graph).hexdigest() != meta["sha256"]:
            raise SystemExit(f"{d}: {meta['file']} does not match model.json's sha256")
        x, dataset = rows_for(meta, a.data)
        doc = write_parity(d, graph, x, source=f"{dataset}: real feature rows at origins before trainUntil {meta['training']['trainUntil']} "
                                               f"(training/forecast_training/parity_vectors.py)",
                           input_name=meta["input"]["name"])
        print(f"{d}: parity.json, {doc['rows']} rows")


if __name__ == "__main__":
    main()
