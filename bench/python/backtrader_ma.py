"""
backtrader side of bench/peer-engines.ts: MAOTrade's ma-crossover (SMA fast/slow, quantity 1, no stop)
on a candles CSV (symbol,timeframe,start,open,high,low,close,volume; start in epoch ms).

Semantics matched to MAOTrade's backtester: the relation fast-vs-slow is tracked exactly as the system
does (equal averages keep the previous relation; the first relation after warm-up is not a cross); on a
cross the strategy targets +quantity / -quantity (a reversal is one order of 2 × quantity, which
backtrader books as one closed trade and one new one); orders fill at the close of the crossing bar
(cheat-on-close); zero commission and slippage. Final equity = broker value marked at the last close.

Prints one JSON line: {"engine","bars","runs_s":[...],"trades","final_equity",...}.
  .bench-venv/bin/python bench/python/backtrader_ma.py CSV [--fast 10 --slow 30 --runs 3]
"""
import argparse
import json
import math
import time

import backtrader as bt
import pandas as pd


class MaCrossover(bt.Strategy):
    params = dict(fast=10, slow=30, quantity=1)

    def __init__(self):
        self.fast = bt.ind.SMA(self.data.close, period=self.p.fast)
        self.slow = bt.ind.SMA(self.data.close, period=self.p.slow)
        self.relation = 0  # 1 above, -1 below, 0 unknown
        self.trades_closed = 0
        self.orders_filled = 0
        self.realised = 0.0

    def next(self):
        f = self.fast[0]
        s = self.slow[0]
        now = 1 if f > s else -1 if f < s else self.relation
        prev = self.relation
        self.relation = now
        if prev == 0 or now == 0 or now == prev:
            return
        self.order_target_size(target=self.p.quantity if now == 1 else -self.p.quantity)

    def notify_order(self, order):
        if order.status == order.Completed:
            self.orders_filled += 1

    def notify_trade(self, trade):
        if trade.isclosed:
            self.trades_closed += 1
            self.realised += trade.pnl


def load(csv_path):
    df = pd.read_csv(csv_path)
    df.index = pd.to_datetime(df["start"], unit="ms")
    return df[["open", "high", "low", "close", "volume"]]


def run_once(df, fast, slow, cash):
    cerebro = bt.Cerebro(stdstats=False)  # no observers: the engine and the strategy only
    cerebro.adddata(bt.feeds.PandasData(dataname=df, timeframe=bt.TimeFrame.Minutes, compression=1))
    cerebro.addstrategy(MaCrossover, fast=fast, slow=slow)
    cerebro.broker.setcash(cash)
    cerebro.broker.setcommission(commission=0.0)
    cerebro.broker.set_coc(True)  # fill market orders at the close of the bar they were issued on
    t0 = time.perf_counter()
    strat = cerebro.run()[0]
    elapsed = time.perf_counter() - t0
    pos = cerebro.broker.getposition(cerebro.datas[0])
    return elapsed, {
        "trades": strat.trades_closed,
        "orders": strat.orders_filled,
        "realised": strat.realised,
        "open_position": pos.size,
        "final_equity": cerebro.broker.getvalue(),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--fast", type=int, default=10)
    ap.add_argument("--slow", type=int, default=30)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cash", type=float, default=100000.0)
    a = ap.parse_args()
    t0 = time.perf_counter()
    df = load(a.csv)
    load_s = time.perf_counter() - t0
    runs = []
    result = None
    for _ in range(max(1, a.runs)):
        elapsed, result = run_once(df, a.fast, a.slow, a.cash)
        runs.append(elapsed)
    print(json.dumps({"engine": "backtrader", "version": bt.__version__, "bars": len(df), "load_s": load_s, "runs_s": runs, **result}))


if __name__ == "__main__":
    main()
