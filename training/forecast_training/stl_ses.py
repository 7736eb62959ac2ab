"""The statistical component of `walmart-stl`: STL decomposition + simple exponential smoothing,
one series at a time from its own history (docs/model.md, section "walmart-stl").

Twin of `src/inference/statistical/stl-ses.ts` (parity vectors: test/vectors/stl-ses.json).

- STL (Cleveland et al. 1990) exactly as statsmodels' `STL(period=52, seasonal=11,
  seasonal_deg=0)` computes it with its defaults otherwise (trend window 91, degree 1; low-pass
  window 53, degree 1; jumps 1; not robust, so 5 inner iterations and no outer ones): these are
  the settings statsforecast's `MSTL(season_length=52)` passes, the peers' model. Without
  robustness weights every step is a fixed linear smoother of the positions, so `stl` works on
  a batch of series of the same length at once (columns of `y`).
- The seasonally adjusted series x = y - season is smoothed by SES; alpha from ALPHAS and the
  initial level are the ones with the least sum of squared one-step errors (the initial level
  in closed form: the errors are linear in it), as ETS(A,N,N) would choose them.
- Forecast of bucket o+h: level + (1 - d/7) season[o+h-52] + d/7 season[o+h-53], d = how many
  days the week 52 weeks back ends after the same date a year before (1, or 2 across a 29
  February): the seasonal component of the same dates a year back, as a fraction of each week
  (MSTL's seasonal-naive step would take season[o+h-52], one weekday off every year: Christmas
  week 2011 held Christmas Eve, its 52-weeks-back week did not).
History: the newest LOOKBACK buckets up to the origin, from the series' first sale on (absent
weeks are 0); below MIN_HISTORY buckets there is no forecast (None / NaN).
"""
from __future__ import annotations

import math

import datetime as dt

import numpy as np

from .calendar_buckets import label_date

PERIOD = 52
SEASONAL = 11
SEASONAL_DEG = 0
TREND = 91  # statsmodels' default: smallest odd >= 1.5 * period / (1 - 1.5 / seasonal)
TREND_DEG = 1
LOW_PASS = 53  # smallest odd > period
LOW_PASS_DEG = 1
INNER_ITER = 5
ALPHAS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9)
LOOKBACK = 120  # buckets of history read (two seasons plus 16)
MIN_HISTORY = PERIOD + 4  # a season plus the horizons
ALIGN_CALENDAR = True


def calendar_shift(target_bucket: int) -> int:
    """Days by which the week 52 weeks before `target_bucket` ends after the same date a year back."""
    end = label_date(int(target_bucket), "week")
    back = end - dt.timedelta(days=7 * PERIOD)
    year_ago = dt.date(end.year - 1, end.month, 28 if (end.month, end.day) == (2, 29) else end.day)
    return (back - year_ago).days


def _est(y: np.ndarray, n: int, len_: int, ideg: int, xs: int, nleft: int, nright: int) -> np.ndarray:
    """Loess estimate at position xs (1-based) from y[nleft-1 .. nright-1] (rows), for every column."""
    rng = n - 1.0
    h = float(max(xs - nleft, nright - xs))
    if len_ > n:
        h += (len_ - n) // 2
    h9, h1 = 0.999 * h, 0.001 * h
    j = np.arange(nleft - 1, nright)
    r = np.abs(j + 1 - xs).astype(np.float64)
    w = np.where(r <= h1, 1.0, np.where(r <= h9, (1.0 - (r / h) ** 3) ** 3 if h > 0 else 0.0, 0.0))
    a = w.sum()
    if a <= 0:
        return np.full(y.shape[1:], np.nan)
    w = w / a
    if h > 0 and ideg > 0:
        a = (w * (j + 1)).sum()
        b = xs - a
        c = (w * (j + 1 - a) ** 2).sum()
        if math.sqrt(c) > 0.001 * rng:
            w = w * (b / c * (j + 1 - a) + 1.0)
    return w @ y[nleft - 1:nright]


def _ess(y: np.ndarray, len_: int, ideg: int) -> np.ndarray:
    """Loess smoothing of every position (jump 1)."""
    n = y.shape[0]
    if n < 2:
        return y.copy()
    ys = np.empty_like(y)
    if len_ >= n:
        for i in range(n):
            ys[i] = _est(y, n, len_, ideg, i + 1, 1, n)
            bad = np.isnan(ys[i])
            ys[i][bad] = y[i][bad]
        return ys
    nsh = (len_ + 2) // 2
    nleft, nright = 1, len_
    for i in range(n):
        if i + 1 > nsh and nright != n:
            nleft += 1
            nright += 1
        ys[i] = _est(y, n, len_, ideg, i + 1, nleft, nright)
        bad = np.isnan(ys[i])
        ys[i][bad] = y[i][bad]
    return ys


def _ma(x: np.ndarray, len_: int) -> np.ndarray:
    c = np.cumsum(np.concatenate([np.zeros((1,) + x.shape[1:]), x]), axis=0)
    return (c[len_:] - c[:-len_]) / len_


def stl(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Seasonal and trend components of y [n] or [n, m] (columns: series of the same length)."""
    y = np.asarray(y, dtype=np.float64)
    one = y.ndim == 1
    if one:
        y = y[:, None]
    n, p = y.shape[0], PERIOD
    trend = np.zeros_like(y)
    season = np.zeros_like(y)
    for _ in range(INNER_ITER):
        w0 = y - trend
        # cycle-subseries smoothing, each extended one cycle either side: c has n + 2p rows
        c = np.zeros((n + 2 * p,) + y.shape[1:])
        for j in range(p):
            sub = w0[j::p]
            k = sub.shape[0]
            ext = np.empty((k + 2,) + y.shape[1:])
            ext[1:k + 1] = _ess(sub, SEASONAL, SEASONAL_DEG)
            first = _est(sub, k, SEASONAL, SEASONAL_DEG, 0, 1, min(SEASONAL, k))
            ext[0] = np.where(np.isnan(first), ext[1], first)
            last = _est(sub, k, SEASONAL, SEASONAL_DEG, k + 1, max(1, k - SEASONAL + 1), k)
            ext[k + 1] = np.where(np.isnan(last), ext[k], last)
            c[j::p][:k + 2] = ext
        low = _ess(_ma(_ma(_ma(c, p), p), 3), LOW_PASS, LOW_PASS_DEG)
        season = c[p:p + n] - low
        trend = _ess(y - season, TREND, TREND_DEG)
    return (season[:, 0], trend[:, 0]) if one else (season, trend)


def ses_level(x: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """SES of x [m, n] with the SSE-optimal initial level: (final level [m], SSE [m])."""
    m, n = x.shape
    level = np.zeros(m)
    e0 = np.empty((m, n))
    for t in range(n):
        e0[:, t] = x[:, t] - level
        level = level + alpha * e0[:, t]
    c = (1.0 - alpha) ** np.arange(n)
    l0 = (e0 @ c) / (c @ c)
    e = e0 - l0[:, None] * c[None, :]
    return level + (1.0 - alpha) ** n * l0, (e * e).sum(axis=1)


def forecast_batch(y: np.ndarray, horizons: int = 4, origins=None) -> np.ndarray:
    """y [m, n] chronological histories of one length n, the origin last (week bucket `origins`
    [m], for the calendar alignment) -> [m, horizons]."""
    m, n = y.shape
    if n < MIN_HISTORY:
        return np.full((m, horizons), np.nan)
    season, _ = stl(y.T)
    x = y - season.T
    best_sse = np.full(m, np.inf)
    best = np.zeros(m)
    for a in ALPHAS:
        level, sse = ses_level(x, a)
        better = sse < best_sse
        best_sse = np.where(better, sse, best_sse)
        best = np.where(better, level, best)
    s52 = season.T[:, n - PERIOD:n - PERIOD + horizons]
    if not ALIGN_CALENDAR:
        return best[:, None] + s52
    s53 = season.T[:, n - PERIOD - 1:n - PERIOD - 1 + horizons]
    origins = np.broadcast_to(np.asarray(origins), (m,))
    shifts = {}
    d = np.array([[shifts.setdefault(int(o) + h, calendar_shift(int(o) + h)) for h in range(1, horizons + 1)] for o in origins],
                 dtype=np.float64) / 7.0
    return best[:, None] + (1.0 - d) * s52 + d * s53


def forecast(history: np.ndarray, origin: int, horizons: int = 4) -> np.ndarray:
    """One series' history (chronological, first sale first, the week bucket `origin` last) ->
    [horizons] (NaN: none)."""
    h = np.asarray(history, dtype=np.float64)[-LOOKBACK:]
    return forecast_batch(h[None, :], horizons, np.array([origin]))[0]


def forecast_pairs(sales: np.ndarray, first_row: np.ndarray, rows: np.ndarray, origins: np.ndarray,
                   horizons: int = 4, first_bucket: int = 0) -> np.ndarray:
    """Forecasts [len(rows), horizons] for (series row, origin index into sales' columns) pairs
    (column 0 is week bucket `first_bucket`), grouped by history length: one batched STL each."""
    start = np.maximum(first_row[rows], origins - LOOKBACK + 1)
    n = origins - start + 1
    out = np.full((len(rows), horizons), np.nan)
    for length in np.unique(n):
        if length < MIN_HISTORY:
            continue
        sel = np.flatnonzero(n == length)
        idx = start[sel, None] + np.arange(length)[None, :]
        out[sel] = forecast_batch(sales[rows[sel, None], idx], horizons, origins[sel] + first_bucket)
    return out
