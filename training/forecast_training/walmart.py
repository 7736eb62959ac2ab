"""Walmart CSVs -> dense per-series arrays, with the mapping of src/tools/walmart/walmart-data.ts.

Series `<store>-<dept>`; sales bucket = week bucket of the row's Friday; promotions = one
span per store-week whose markdown is MarkDown1..5 summed (NA -> 0), depth 0, covering the
week; weather = Temperature °F -> °C per store-week, precipitation unknown.
Uses the csv module and numpy only, so CI's light requirements can run the parity tests.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .calendar_buckets import bucket_of_day, day_index
from .features import H, DenseSeries

PAD = 60  # zero buckets before the first week, so origin-52 always indexes the grid


def _week(date_text: str) -> int:
    return bucket_of_day(day_index(dt.date.fromisoformat(date_text)), "week")


def _num(text: str) -> float | None:
    return None if text in ("NA", "") else float(text)


def _read(path: Path) -> list[dict[str, str]]:
    # stores.csv has CR line endings; universal newlines handle CR, LF and CRLF.
    with open(path, newline=None, encoding="utf-8") as f:
        return list(csv.DictReader(io.StringIO(f.read())))


@dataclass
class WalmartData:
    dense: DenseSeries
    series_ids: list[str]
    stores: list[str]
    depts: list[str]
    has_row: np.ndarray  # [n_series, n_buckets] bool: a sale row exists for that week
    holiday: np.ndarray  # [n_buckets] bool: IsHoliday of train.csv for that week
    region: dict[str, str]

    def bucket_index(self, bucket: int) -> int:
        return bucket - self.dense.first_bucket


def load_walmart(data_dir: str | Path, horizon_pad: int = H + 1) -> WalmartData:
    data_dir = Path(data_dir)
    train = _read(data_dir / "train.csv")
    feats = _read(data_dir / "features.csv")
    try:
        region = {r["Store"]: r["Type"] for r in _read(data_dir / "stores.csv")}
    except FileNotFoundError:
        region = {}

    weeks = [_week(r["Date"]) for r in train]
    fweeks = [_week(r["Date"]) for r in feats]
    first = min(weeks) - PAD
    last = max(max(weeks), max(fweeks) if fweeks else 0) + horizon_pad
    n_b = last - first + 1

    keys = sorted({(r["Store"], r["Dept"]) for r in train}, key=lambda k: (int(k[0]), int(k[1])))
    row_of = {k: i for i, k in enumerate(keys)}
    sales = np.zeros((len(keys), n_b))
    has_row = np.zeros((len(keys), n_b), dtype=bool)
    holiday = np.zeros(n_b, dtype=bool)
    for r, w in zip(train, weeks):
        i = row_of[(r["Store"], r["Dept"])]
        sales[i, w - first] += float(r["Weekly_Sales"])
        has_row[i, w - first] = True
        if r["IsHoliday"].upper() == "TRUE":
            holiday[w - first] = True

    store_list = sorted({k[0] for k in keys}, key=int)
    store_row = {s: i for i, s in enumerate(store_list)}
    md_store = np.zeros((len(store_list), n_b))
    temp_store = np.full((len(store_list), n_b), np.nan)
    for r, w in zip(feats, fweeks):
        si = store_row.get(r["Store"])
        if si is None or not (0 <= w - first < n_b):
            continue
        md_store[si, w - first] = sum((_num(r[f"MarkDown{k}"]) or 0.0) for k in range(1, 6))
        t = _num(r["Temperature"])
        if t is not None:
            temp_store[si, w - first] = (t - 32.0) * 5.0 / 9.0

    srow = np.array([store_row[k[0]] for k in keys], dtype=np.int64)
    dense = DenseSeries(
        first_bucket=first,
        size="week",
        sales=sales,
        markdown=md_store[srow],
        depth=np.zeros_like(sales),
        temperature=temp_store[srow],
        precipitation=np.full_like(sales, np.nan),
    )
    return WalmartData(
        dense=dense,
        series_ids=[f"{s}-{d}" for s, d in keys],
        stores=[s for s, _ in keys],
        depts=[d for _, d in keys],
        has_row=has_row,
        holiday=holiday,
        region=region,
    )


def truncate_sales(data: WalmartData, last_bucket: int) -> None:
    """Drop sales after `last_bucket` (the training window's end), in place."""
    cut = data.bucket_index(last_bucket) + 1
    data.dense.sales[:, cut:] = 0.0
    data.has_row[:, cut:] = False
