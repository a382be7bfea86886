"""
vectorbt side of bench/peer-engines.ts: MAOTrade's ma-crossover (SMA fast/slow, quantity 1, no stop) on a
candles CSV (symbol,timeframe,start,open,high,low,close,volume; start in epoch ms), vectorised.

Semantics matched to MAOTrade's backtester: both SMAs from vbt.MA; the relation fast-vs-slow as the system
tracks it (equal averages keep the previous relation; the first relation after warm-up is not a cross); an
up-cross is a long entry, a down-cross a short entry, an opposite entry reverses (upon_opposite_entry
'reverse': one order of 2 × quantity); orders fill at the close of the crossing bar; zero fees and
slippage. Final equity = portfolio value at the last close. `--engine numba` (vectorbt's own kernels) or
`--engine rust` (the vectorbt-rust package). The timed part is the whole backtest: averages, signals,
Portfolio.from_signals, and the trade count / P&L / final value read from it; one untimed warm-up run
compiles numba's kernels first.

Prints one JSON line: {"engine","bars","runs_s":[...],"trades","final_equity",...}.
  .bench-venv/vbt/bin/python bench/python/vectorbt_ma.py CSV [--fast 10 --slow 30 --runs 3 --engine rust]
"""
import argparse
import json
import time

import numpy as np
import pandas as pd
import vectorbt as vbt


def load(csv_path):
    df = pd.read_csv(csv_path)
    df.index = pd.to_datetime(df["start"], unit="ms")
    return df["close"].astype(float)


def run_once(close, fast, slow, cash, engine):
    t0 = time.perf_counter()
    f = vbt.MA.run(close, fast).ma.to_numpy()
    s = vbt.MA.run(close, slow).ma.to_numpy()
    rel = np.sign(f - s)  # NaN while warming up, 0 when equal
    rel[rel == 0] = np.nan
    rel = pd.Series(rel).ffill().to_numpy()  # an equal bar keeps the previous relation
    prev = np.roll(rel, 1)
    prev[0] = np.nan
    cross = ~np.isnan(prev) & (rel != prev)
    pf = vbt.Portfolio.from_signals(
        close,
        entries=cross & (rel == 1),
        short_entries=cross & (rel == -1),
        size=1.0,
        size_type="amount",
        upon_opposite_entry="reverse",
        fees=0.0,
        slippage=0.0,
        init_cash=cash,
        freq="1min",
        engine=engine,
    )
    closed = pf.trades.closed
    result = {
        "trades": int(closed.count()),
        "orders": int(pf.orders.count()),
        "realised": float(closed.pnl.sum()),
        "open_position": float(pf.assets().iloc[-1]),
        "final_equity": float(pf.value().iloc[-1]),
    }
    return time.perf_counter() - t0, result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--fast", type=int, default=10)
    ap.add_argument("--slow", type=int, default=30)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cash", type=float, default=100000.0)
    ap.add_argument("--engine", choices=["numba", "rust"], default="numba")
    a = ap.parse_args()
    vbt.settings["caching"]["enabled"] = False  # every run computes afresh
    close = load(a.csv)
    run_once(close, a.fast, a.slow, a.cash, a.engine)  # warm-up: numba compiles its kernels
    runs = []
    result = None
    for _ in range(max(1, a.runs)):
        elapsed, result = run_once(close, a.fast, a.slow, a.cash, a.engine)
        runs.append(elapsed)
    name = "vectorbt" if a.engine == "numba" else "vectorbt-rust"
    print(json.dumps({"engine": name, "version": vbt.__version__, "bars": len(close), "runs_s": runs, **result}))


if __name__ == "__main__":
    main()
