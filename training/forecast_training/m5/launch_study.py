"""M5 cold-start (launch) study: bench/results/m5-launch-study.md.

  cd training && nice -n 19 .venv/bin/python -m forecast_training.m5.launch_study [--data DIR] [--out JSON]

Launch protocol of the data's README: every series listed L in [from, to-27], origin o = L-1,
days L..L+27; main figure the WAPE of each launch's 28-day total (sum |total - sum p50| /
sum totals) and its ratio to the README's analog baseline (replicated exactly from
src/tools/evaluate/run-m5-evaluation.ts launchBaseline: 0.7146 on the dev window).

Honesty: a launch with origin o sees only sales dated <= o: the store x dept / dept levels
use days o-27..o; earlier launches' first 28 days are used only when listed <= o-28 (fully
observed by o); prices (set ahead) and the calendar may be read for any day. Models are fitted
on launches whose 28 days end <= 2012-06-30 ("fixed"), or refitted every 28 days on the
launches fully observed by the origin ("rolling"); the recipe is chosen on a pre-dev rolling
window (launches listed 2011-10-01 .. 2012-06-03), never on the dev window.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize

H = 28
DATA = "/work/shared/data/m5-daily"
DEV_FROM, DEV_TO = "2012-07-01", "2014-06-30"
SEL_FROM, SEL_TO = "2011-10-01", "2012-06-30"  # pre-dev selection window (rolling fits only)
TRAIN_UNTIL = "2012-06-30"
REFIT_EVERY = 28
DEFAULT_RATIO = 0.4  # launch-month sales / mature store x dept level, when no analog exists


def day(s: str) -> int:
    return int(np.datetime64(s, "D").astype(np.int64))


def date(d: int) -> str:
    return str(np.datetime64(int(d), "D"))


def wd(d):  # 0 = Monday
    return (np.asarray(d) + 3) % 7


class Data:
    def __init__(self, data_dir: str = DATA):
        d = Path(data_dir)
        it = pd.read_csv(d / "items.csv", dtype=str, keep_default_na=False).sort_values("id").reset_index(drop=True)
        cal = pd.read_csv(d / "calendar.csv", dtype=str, keep_default_na=False)
        sales = pd.read_csv(d / "sales.csv.gz", dtype={"store": str, "item": str, "date": str, "sales": np.float64})
        prices = pd.read_csv(d / "prices.csv.gz", dtype={"store": str, "item": str, "wm_yr_wk": np.int64,
                                                           "sell_price": np.float64})
        self.ids = it["id"].to_numpy()
        row = {k: i for i, k in enumerate(self.ids)}
        self.store, self.dept, self.cat, self.state, self.item = (it[c].to_numpy() for c in
                                                                  ("store", "dept", "category", "state", "item"))
        self.listed = np.array([day(v) for v in it["listed"]])
        self.first = np.array([day(v) if v else 10**9 for v in it["first_sale"]])
        self.base = day(cal["date"].iloc[0])
        self.cal_last = day(cal["date"].iloc[-1])
        self.last = day(sales["date"].max())
        N, T = len(self.ids), self.last - self.base + 1
        S = np.zeros((N, T))
        r = (sales["store"] + ":" + sales["item"]).map(row).to_numpy()
        dd = pd.to_datetime(sales["date"]).to_numpy().astype("datetime64[D]").astype(np.int64)
        S[r, dd - self.base] = sales["sales"].to_numpy()
        self.S = S
        self.csum = np.concatenate([np.zeros((N, 1)), np.cumsum(S, axis=1)], axis=1)
        wk_start = cal.groupby("wm_yr_wk")["date"].min().map(day)
        Tp = self.cal_last - self.base + 1
        P = np.full((N, Tp), np.nan)
        pr = (prices["store"] + ":" + prices["item"]).map(row).to_numpy()
        ws = prices["wm_yr_wk"].astype(str).map(wk_start).to_numpy().astype(np.int64)
        for k in range(7):
            ok = ws + k <= self.cal_last
            P[pr[ok], ws[ok] + k - self.base] = prices["sell_price"].to_numpy()[ok]
        self.P = pd.DataFrame(P.T).ffill().to_numpy().T  # price in force (last change)
        # first 28 days from listing of every series (zeros before the first sale)
        self.C = np.zeros((N, H))
        self.full = self.listed + H - 1 <= self.last
        for i in np.where(self.full)[0]:
            self.C[i] = S[i, self.listed[i] - self.base: self.listed[i] - self.base + H]
        self.tot = self.C.sum(axis=1)
        self.true_launch = self.listed > self.base  # series priced from the data's first day are no launches
        self._lvl: dict = {}

    def window_sum(self, rows, lo, hi):
        """sales of rows over days lo..hi (inclusive)."""
        return self.csum[rows, hi - self.base + 1] - self.csum[rows, lo - self.base]

    def launches(self, lo: str, hi: str, true_only: bool = False):
        a, b = day(lo), day(hi)
        m = (self.listed >= a) & (self.listed <= b - 27) & self.full
        if true_only:
            m &= self.true_launch
        return np.where(m)[0]

    def level(self, rows, o: int, w: int = 28) -> float:
        """mean daily sales over o-w+1..o per series of `rows` first sold by o-w+1 (NaN if none)."""
        rows = rows[self.first[rows] <= o - w + 1]
        if len(rows) == 0:
            return np.nan
        return float(self.window_sum(rows, o - w + 1, o).mean() / w)

    def group_level(self, store, dept, o: int, w: int = 28) -> float:
        k = (store, dept, o, w)
        if k not in self._lvl:
            m = self.dept == dept if store is None else (self.store == store) & (self.dept == dept)
            self._lvl[k] = self.level(np.where(m)[0], o, w)  # a series launched after o has no sale by o
        return self._lvl[k]


# ---------------------------------------------------------------------------------------
# the README baseline (src/tools/evaluate/run-m5-evaluation.ts launchBaseline)

def earlier(D: Data, i: int, o: int, same_store: bool, true_only: bool = False) -> np.ndarray:
    """Series of i's dept (in its store) listed <= o - 28 (first 28 days observed by o), not i."""
    m = (D.dept == D.dept[i]) & (D.listed <= o - 28) & D.full
    m[i] = False
    if same_store:
        m &= D.store == D.store[i]
    if true_only:
        m &= D.true_launch
    return np.where(m)[0]


def baseline_curve(D: Data, i: int, o: int) -> np.ndarray:
    g = earlier(D, i, o, True)
    if len(g) == 0:
        g = earlier(D, i, o, False)
    if len(g) == 0:
        return np.zeros(H)
    return np.median(D.C[g], axis=0)


# ---------------------------------------------------------------------------------------
# features at the origin: catalog (store, dept, price, listing), other items' prices,
# store x dept / dept levels of sales <= o, earlier launches fully observed by o

def features(D: Data, i: int, o: int) -> dict:
    st, dp, L = D.store[i], D.dept[i], o + 1
    f: dict = {}
    g_sd, g_d = earlier(D, i, o, True), earlier(D, i, o, False)
    g_dt = earlier(D, i, o, False, true_only=True)
    f["n_sd"], f["n_dt"] = len(g_sd), len(g_dt)
    f["base_tot"] = float(baseline_curve(D, i, o).sum())
    lvl_sd, lvl_d = D.group_level(st, dp, o), D.group_level(None, dp, o)
    f["lvl_sd_raw"], f["lvl_d"] = lvl_sd, lvl_d
    f["lvl_sd"] = lvl_sd if lvl_sd == lvl_sd else (lvl_d if lvl_d == lvl_d else 1.0)
    fallback = 28 * DEFAULT_RATIO * f["lvl_sd"]
    f["med_dt"] = float(np.median(D.tot[g_dt])) if len(g_dt) else (float(np.median(D.tot[g_d])) if len(g_d) else fallback)
    f["med_sd"] = float(np.median(D.tot[g_sd])) if len(g_sd) else (float(np.median(D.tot[g_d])) if len(g_d) else fallback)
    # analog ratio: earlier true launches' 28-day mean / their store x dept level at their origin
    rr = [D.tot[e] / 28 / lv for e in g_dt if (lv := D.group_level(D.store[e], dp, int(D.listed[e]) - 1)) > 0]
    f["ratio_dt"] = float(np.median(rr)) if rr else DEFAULT_RATIO
    # the dept's launch profile (share of the 28-day total per day; all launches start on a Saturday)
    f["profile"] = (D.C[g_dt].sum(0) / D.tot[g_dt].sum()) if len(g_dt) and D.tot[g_dt].sum() > 0 else np.full(H, 1 / H)
    # the same item's earlier launches in other stores (listed <= o - 28): mean 28-day total
    same = np.where((D.item == D.item[i]) & (D.store != st) & (D.listed <= o - 28) & D.full)[0]
    f["item_tot"] = float(D.tot[same].mean()) if len(same) else np.nan
    # price on day L vs the prices in force at o of the store x dept's other listed items
    p = D.P[i, L - D.base]
    f["price"] = p
    for name, m in (("sd", (D.store == st) & (D.dept == dp)), ("d", D.dept == dp)):
        m = m & (D.listed <= o)
        m[i] = False
        q = D.P[m, o - D.base]
        q = q[~np.isnan(q)]
        f[f"price_ratio{'' if name == 'sd' else '_d'}"] = float(p / np.median(q)) if len(q) and p > 0 else 1.0
        if name == "sd":
            f["price_rank"] = float((q < p).mean() + 0.5 * (q == p).mean()) if len(q) else 0.5
    return f


def launch_table(D: Data, rows: np.ndarray) -> pd.DataFrame:
    recs = []
    for i in rows:
        o = int(D.listed[i]) - 1
        f = features(D, i, o)
        f.update(row=int(i), origin=o, actual=D.tot[i], dept=D.dept[i], store=D.store[i])
        recs.append(f)
    return pd.DataFrame(recs).reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# models of the 28-day total

DEPTS = ["FOODS_1", "FOODS_2", "FOODS_3", "HOBBIES_1", "HOBBIES_2", "HOUSEHOLD_1", "HOUSEHOLD_2"]
LOG_FLOOR = 0.01


def loglin_design(T: pd.DataFrame, cols: list[str], dept: bool = False) -> np.ndarray:
    X = [np.ones(len(T))]
    for c in cols:
        X.append(np.log(np.maximum(T[c].to_numpy(float), LOG_FLOOR)))
    if dept:
        for d in DEPTS[1:]:
            X.append((T["dept"] == d).to_numpy(float))
    return np.stack(X, 1)


def fit_loglin(X: np.ndarray, y: np.ndarray, ridge: float = 0.0) -> np.ndarray:
    """b minimising sum |y - exp(X b)| (smoothed: sqrt(r^2 + 0.25)) + ridge * |b[1:]|^2 * n."""
    n = len(y)
    b0 = np.linalg.lstsq(X, np.log1p(y), rcond=None)[0]

    def loss(b):
        f = np.exp(np.clip(X @ b, -10, 10))
        r = y - f
        s = np.sqrt(r * r + 0.25)
        pen = ridge * n * np.r_[0, b[1:]]
        return s.sum() + 0.5 * ridge * n * (b[1:] @ b[1:]), -(r / s * f) @ X + pen

    best = None
    for start in (b0, np.r_[np.log(max(np.median(y), 1.0)), np.zeros(X.shape[1] - 1)]):
        r = minimize(loss, start, jac=True, method="L-BFGS-B")
        if best is None or r.fun < best.fun:
            best = r
    return best.x


LGB_PARAMS = {"objective": "l1", "num_leaves": 4, "min_data_in_leaf": 40, "learning_rate": 0.03, "num_threads": 1,
              "verbose": -1, "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1,
              "min_data_per_group": 20, "cat_smooth": 10, "max_cat_to_onehot": 8}
LGB_ROUNDS = 200
LGB_SEEDS = (1, 2, 3)


def lgb_frame(T: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    Z = pd.DataFrame({c: T[c].to_numpy(float) for c in cols if c != "dept"})
    if "dept" in cols:
        Z["dept"] = T["dept"].map({d: k for k, d in enumerate(DEPTS)}).to_numpy()
    return Z


class Model:
    """kind: 'col' (F = c * feature, c fitted), 'loglin' (F = exp(b . [1, log x...])), 'lgb', 'blend'."""

    def __init__(self, name, kind, cols, dept=False, parts=None, ridge=0.0, rounds=LGB_ROUNDS):
        self.name, self.kind, self.cols, self.dept, self.parts, self.ridge, self.rounds = (
            name, kind, cols, dept, parts, ridge, rounds)

    def fit(self, T: pd.DataFrame):
        y = T["actual"].to_numpy(float)
        if self.kind == "col":
            x = T[self.cols[0]].to_numpy(float)
            cs = np.exp(np.linspace(-4, 4, 1601))
            self.c = float(cs[int(np.argmin([np.abs(y - c * x).sum() for c in cs]))])
        elif self.kind == "loglin":
            self.b = fit_loglin(loglin_design(T, self.cols, self.dept), y, self.ridge)
        elif self.kind == "lgb":
            import lightgbm as lgb
            Z = lgb_frame(T, self.cols)
            cat = ["dept"] if "dept" in self.cols else "auto"
            self.boosters = [lgb.train({**LGB_PARAMS, "seed": s}, lgb.Dataset(Z, y, categorical_feature=cat),
                                       self.rounds) for s in LGB_SEEDS]
        elif self.kind == "blend":
            for p in self.parts:
                p.fit(T)
        elif self.kind == "item":  # geometric mean of the part and c x the same item's earlier launches
            self.parts[0].fit(T)
            m = T["item_tot"].notna().to_numpy()
            f, g = self.parts[0].predict(T[m]), T["item_tot"].to_numpy(float)[m]
            cs = np.exp(np.linspace(np.log(0.1), np.log(3), 341))
            self.c = float(cs[int(np.argmin([np.abs(y[m] - np.sqrt(f * c * g)).sum() for c in cs]))]) if m.sum() >= 10 else 0.5
        return self

    def predict(self, T: pd.DataFrame) -> np.ndarray:
        if self.kind == "fixed":
            return T[self.cols[0]].to_numpy(float)
        if self.kind == "col":
            return self.c * T[self.cols[0]].to_numpy(float)
        if self.kind == "loglin":
            return np.exp(loglin_design(T, self.cols, self.dept) @ self.b)
        if self.kind == "lgb":
            Z = lgb_frame(T, self.cols)
            return np.maximum(np.mean([b.predict(Z) for b in self.boosters], axis=0), 0.0)
        if self.kind == "blend":
            return np.mean([p.predict(T) for p in self.parts], axis=0)
        if self.kind == "item":
            f = self.parts[0].predict(T)
            g = T["item_tot"].to_numpy(float)
            return np.where(np.isnan(g), f, np.sqrt(f * self.c * np.nan_to_num(g)))
        raise ValueError(self.kind)


def predict_totals(model_factory, T_all: pd.DataFrame, target: np.ndarray, mode: str, train_until: int,
                   train_from: int = 0) -> np.ndarray:
    """28-day totals for the rows `target` of T_all. fixed: one fit on launches with L+27 <= train_until;
    rolling: a refit every REFIT_EVERY days on the launches fully observed by the origin (L+27 <= o)."""
    o_all = T_all["origin"].to_numpy()
    L_all = o_all + 1
    pool = L_all >= train_from
    out = np.zeros(len(T_all))
    if mode == "fixed":
        m = model_factory().fit(T_all[pool & (L_all + 27 <= train_until)])
        out[target] = m.predict(T_all[target])
        return out[target]
    origins = np.sort(np.unique(o_all[target]))
    k = 0
    while k < len(origins):
        o = origins[k]
        block = target & (o_all >= o) & (o_all < o + REFIT_EVERY)
        m = model_factory().fit(T_all[pool & (L_all + 27 <= o)])
        out[block] = m.predict(T_all[block])
        k = int(np.searchsorted(origins, o + REFIT_EVERY))
    return out[target]


# ---------------------------------------------------------------------------------------
# daily spread and intervals

def daily(F: np.ndarray, T: pd.DataFrame, k_low: float, k_high: float):
    """p50 day d = F * profile[d] (the dept's launch profile); p10/p90 = k_low/k_high * p50."""
    prof = np.stack(T["profile"].to_numpy())
    p50 = F[:, None] * prof
    return k_low * p50, p50, k_high * p50


def calibrate_interval(F, T, actual_curves, target=0.80):
    """k_low: largest multiple with <= 10% of daily actuals below it (0 when the zeros alone exceed
    that); k_high: the smallest multiple covering `target` of the daily actuals together with k_low."""
    _, p50, _ = daily(F, T, 1.0, 1.0)
    a = actual_curves.ravel()
    q = p50.ravel()
    ks = np.r_[0.0, np.exp(np.linspace(np.log(0.01), np.log(20), 800))]
    below = np.array([np.mean(a < k * q) for k in ks])
    k_low = float(ks[below <= 0.10].max())
    cov = np.array([np.mean((a >= k_low * q) & (a <= k * q)) for k in ks])
    k_high = float(ks[np.argmax(cov >= target)])
    return k_low, k_high


def score(D: Data, T: pd.DataFrame, F: np.ndarray, k_low: float, k_high: float) -> dict:
    rows = T["row"].to_numpy()
    A = D.C[rows]
    a = A.sum(1)
    base = T["base_tot"].to_numpy()
    p10, p50, p90 = daily(F, T, k_low, k_high)
    err, berr = np.abs(a - F).sum(), np.abs(a - base).sum()
    return {"launches": int(len(rows)), "total_wape": round(float(err / a.sum()), 4),
            "baseline_total_wape": round(float(berr / a.sum()), 4), "ratio_to_baseline": round(float(err / berr), 4),
            "daily_wape": round(float(np.abs(A - p50).sum() / A.sum()), 4),
            "coverage_p10_p90": round(float(np.mean((A >= p10) & (A <= p90))), 4),
            "k_low": round(k_low, 3), "k_high": round(k_high, 3)}


# ---------------------------------------------------------------------------------------

def variants():
    core = ["lvl_sd", "med_dt", "price_ratio"]
    return [
        ("baseline (README analog, day-by-day median)", lambda: Model("baseline", "fixed", ["base_tot"])),
        ("analog: median 28-day total, dept's earlier launches over all stores", lambda: Model("med_dt", "fixed", ["med_dt"])),
        ("analog: median 28-day total, store x dept (README pool)", lambda: Model("med_sd", "fixed", ["med_sd"])),
        ("c x store x dept level (lvl_sd)", lambda: Model("c*lvl_sd", "col", ["lvl_sd"])),
        ("c x baseline total", lambda: Model("c*base", "col", ["base_tot"])),
        ("loglin: lvl_sd, med_dt", lambda: Model("ll2", "loglin", ["lvl_sd", "med_dt"])),
        ("loglin: lvl_sd, med_dt, price_ratio", lambda: Model("ll3", "loglin", core)),
        ("loglin: lvl_sd, med_dt, med_sd, price_ratio", lambda: Model("ll4", "loglin", core + ["med_sd"])),
        ("loglin: lvl_sd, med_dt, price_ratio + dept intercepts (ridge 0.01)",
         lambda: Model("ll3d", "loglin", core, dept=True, ridge=0.01)),
        ("LightGBM L1: lvl_sd, med_dt, price_ratio", lambda: Model("gbm3", "lgb", core)),
        ("LightGBM L1: lvl_sd, med_dt, price_ratio, dept", lambda: Model("gbm4", "lgb", core + ["dept"])),
        ("LightGBM L1: + med_sd, ratio_dt, price_ratio_d, price_rank",
         lambda: Model("gbm8", "lgb", core + ["dept", "med_sd", "ratio_dt", "price_ratio_d", "price_rank"])),
        ("blend: mean of loglin(lvl_sd, med_dt, price_ratio) and LightGBM(+dept)",
         lambda: Model("blend", "blend", [], parts=[Model("ll3", "loglin", core), Model("gbm4", "lgb", core + ["dept"])])),
        ("loglin(lvl_sd, med_dt, price_ratio), geometric mean with c x the same item's earlier launches elsewhere",
         lambda: Model("ll3+item", "item", [], parts=[Model("ll3", "loglin", core)])),
        ("blend, geometric mean with c x the same item's earlier launches elsewhere",
         lambda: Model("blend+item", "item", [], parts=[Model("blend", "blend", [], parts=[
             Model("ll3", "loglin", core), Model("gbm4", "lgb", core + ["dept"])])])),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--out", default="/tmp/m5-launch-study.json")
    ap.add_argument("--only", help="comma-separated model names")
    ap.add_argument("--predictions", help="write the recommended recipe's dev predictions (README format) here")
    a = ap.parse_args()
    t0 = time.time()
    D = Data(a.data)
    # every launch whose 28 days are observed: true launches for training, the dev window's as listed
    rows = np.union1d(np.where(D.true_launch & D.full)[0], D.launches(DEV_FROM, DEV_TO))
    T = launch_table(D, rows)
    L = T["origin"].to_numpy() + 1
    dev = (L >= day(DEV_FROM)) & (L <= day(DEV_TO) - 27)
    sel = (L >= day(SEL_FROM)) & (L <= day(SEL_TO) - 27) & ~dev
    train_fixed = (L + 27 <= day(TRAIN_UNTIL))
    print(f"features {time.time() - t0:.1f}s: {len(T)} launches, dev {dev.sum()}, selection {sel.sum()}, "
          f"fixed training {train_fixed.sum()}", flush=True)
    assert abs(np.abs(T.actual[dev] - T.base_tot[dev]).sum() / T.actual[dev].sum() - 0.7146) < 5e-4
    results = []
    for label, factory in variants():
        name = factory().name
        if a.only and name not in a.only.split(","):
            continue
        rec = {"name": name, "label": label}
        for mode in ("fixed", "rolling"):
            # the interval factors: fitted on the training launches' in-sample totals (fixed) or
            # the selection window's rolling totals (rolling); never on the dev window
            if mode == "fixed":
                Ftr = predict_totals(factory, T, train_fixed, "fixed", day(TRAIN_UNTIL))
                kl, kh = calibrate_interval(Ftr, T[train_fixed], D.C[T.row[train_fixed]])
            else:
                Fsel = predict_totals(factory, T, sel, "rolling", day(TRAIN_UNTIL))
                rec["selection_rolling"] = score(D, T[sel], Fsel, *calibrate_interval(Fsel, T[sel], D.C[T.row[sel]]))
                kl, kh = calibrate_interval(Fsel, T[sel], D.C[T.row[sel]])
            F = predict_totals(factory, T, dev, mode, day(TRAIN_UNTIL))
            rec[f"dev_{mode}"] = score(D, T[dev], F, kl, kh)
        results.append(rec)
        print(f"{name:10s} sel {rec['selection_rolling']['total_wape']:.4f} | dev fixed "
              f"{rec['dev_fixed']['total_wape']:.4f} ({rec['dev_fixed']['ratio_to_baseline']:.3f}) "
              f"daily {rec['dev_fixed']['daily_wape']:.3f} cov {rec['dev_fixed']['coverage_p10_p90']:.3f} | rolling "
              f"{rec['dev_rolling']['total_wape']:.4f} ({rec['dev_rolling']['ratio_to_baseline']:.3f}) "
              f"cov {rec['dev_rolling']['coverage_p10_p90']:.3f}  [{time.time() - t0:.0f}s]", flush=True)
    # the recommended recipe (chosen on the selection window): its constants from the fixed fit
    core = ["lvl_sd", "med_dt", "price_ratio"]
    ll3 = Model("ll3", "loglin", core).fit(T[train_fixed])
    item = Model("ll3+item", "item", [], parts=[Model("ll3", "loglin", core)]).fit(T[train_fixed])
    Ftr = item.predict(T[train_fixed])
    kl, kh = calibrate_interval(Ftr, T[train_fixed], D.C[T.row[train_fixed]])
    recipe = {"loglin": dict(zip(["intercept"] + core, map(float, ll3.b))), "scale": float(np.exp(ll3.b[0])),
              "itemC": item.c, "kLow": kl, "kHigh": kh, "trainLaunches": int(train_fixed.sum())}
    print("recipe", json.dumps(recipe))
    if a.predictions:
        F = item.predict(T[dev])
        p10, p50, p90 = daily(F, T[dev], kl, kh)
        with open(a.predictions, "w") as fh:
            fh.write("store,item,origin,target,p10,p50,p90\n")
            for k, i in enumerate(T["row"][dev]):
                o = int(D.listed[i]) - 1
                for h in range(H):
                    fh.write(f"{D.store[i]},{D.item[i]},{date(o)},{date(o + 1 + h)},{p10[k, h]:.4f},{p50[k, h]:.4f},{p90[k, h]:.4f}\n")
    Path(a.out).write_text(json.dumps({"results": results, "recipe": recipe}, indent=1))


if __name__ == "__main__":
    main()
