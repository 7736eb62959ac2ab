#!/usr/bin/env python3
"""Cuts the small M5 sample the repository carries (data/m5-sample/) from the shared M5
files, so `make demo` and the tests run from a fresh clone alone. Deterministic; run it
again to reproduce the committed files byte for byte:

    python3 scripts/make-m5-sample.py ../shared/data/m5-daily data/m5-sample

Selection: the two years 2012-07-01 .. 2014-06-30; per store, the 6 series with the most
price cuts in those years (a cut = the weekly price >= 10% below the 8-week max) that
sold before the window, 6 steady sellers (most units) and 3 launches listed inside the
window, so the sample holds price cuts, busy and intermittent SKUs, and new products.
Standard library only (no pandas), so it runs anywhere.
"""
import csv
import gzip
import io
import sys
from collections import defaultdict
from pathlib import Path

FROM, TO = "2012-07-01", "2014-06-30"
PER_STORE = {"cuts": 6, "steady": 6, "launch": 3}


def main(src: str, dst: str) -> None:
    s, d = Path(src), Path(dst)
    d.mkdir(parents=True, exist_ok=True)
    items = list(csv.DictReader(open(s / "items.csv", newline="")))
    cal = list(csv.DictReader(open(s / "calendar.csv", newline="")))
    week_start = {}
    for r in cal:
        week_start.setdefault(r["wm_yr_wk"], r["date"])
    prices = defaultdict(list)
    with gzip.open(s / "prices.csv.gz", "rt", newline="") as f:
        for r in csv.DictReader(f):
            prices[f'{r["store"]}:{r["item"]}'].append((week_start[r["wm_yr_wk"]], float(r["sell_price"]), r))
    units = defaultdict(float)
    with gzip.open(s / "sales.csv.gz", "rt", newline="") as f:
        for r in csv.DictReader(f):
            if FROM <= r["date"] <= TO:
                units[f'{r["store"]}:{r["item"]}'] += float(r["sales"])

    def cuts(sid: str) -> int:
        ps = sorted(prices[sid])
        n = 0
        for i, (day, p, _) in enumerate(ps):
            if FROM <= day <= TO:
                window = [q for (dd, q, _) in ps[max(0, i - 8):i]]
                if window and p <= 0.9 * max(window):
                    n += 1
        return n

    chosen = []
    by_store = defaultdict(list)
    for it in items:
        by_store[it["store"]].append(it)
    for store in sorted(by_store):
        rows = sorted(by_store[store], key=lambda r: r["id"])
        old = [r for r in rows if r["first_sale"] and r["first_sale"] < FROM]
        launches = [r for r in rows if FROM <= r["listed"] <= TO]
        pick = sorted(old, key=lambda r: (-cuts(r["id"]), r["id"]))[: PER_STORE["cuts"]]
        rest = [r for r in old if r not in pick]
        pick += sorted(rest, key=lambda r: (-units[r["id"]], r["id"]))[: PER_STORE["steady"]]
        pick += sorted(launches, key=lambda r: (-units[r["id"]], r["id"]))[: PER_STORE["launch"]]
        chosen += pick
    ids = {r["id"] for r in chosen}

    # items: first sale and listing as seen inside the sample's two years
    first = {}
    sales_out = io.StringIO()
    w = csv.writer(sales_out, lineterminator="\n")
    w.writerow(["store", "item", "date", "sales"])
    with gzip.open(s / "sales.csv.gz", "rt", newline="") as f:
        for r in csv.DictReader(f):
            sid = f'{r["store"]}:{r["item"]}'
            if sid in ids and FROM <= r["date"] <= TO:
                if sid not in first and float(r["sales"]) > 0:
                    first[sid] = r["date"]
                if sid in first:
                    w.writerow([r["store"], r["item"], r["date"], r["sales"]])
    with open(d / "items.csv", "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["id", "item", "dept", "category", "store", "state", "first_sale", "listed"])
        for r in sorted(chosen, key=lambda r: r["id"]):
            out.writerow([r["id"], r["item"], r["dept"], r["category"], r["store"], r["state"], first.get(r["id"], ""), max(r["listed"], FROM)])
    with gzip.GzipFile(d / "sales.csv.gz", "wb", mtime=0) as g:
        g.write(sales_out.getvalue().encode())
    pr_out = io.StringIO()
    pw = csv.writer(pr_out, lineterminator="\n")
    pw.writerow(["store", "item", "wm_yr_wk", "sell_price"])
    for sid in sorted(ids):
        for day, _, r in sorted(prices[sid], key=lambda t: t[0]):
            if day <= TO:
                pw.writerow([r["store"], r["item"], r["wm_yr_wk"], r["sell_price"]])
    with gzip.GzipFile(d / "prices.csv.gz", "wb", mtime=0) as g:
        g.write(pr_out.getvalue().encode())
    (d / "calendar.csv").write_bytes((s / "calendar.csv").read_bytes())
    print(f"{len(ids)} series -> {d}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
