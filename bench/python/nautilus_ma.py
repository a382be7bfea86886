"""
NautilusTrader side of bench/peer-engines.ts: MAOTrade's ma-crossover (SMA fast/slow, quantity 1, no
stop) on the same candles CSV, run by a BacktestEngine over 1-minute bars.

Semantics matched to MAOTrade's backtester: the relation fast-vs-slow is tracked exactly as the system
does (equal averages keep the previous relation; the first relation after warm-up is not a cross); on a
cross the strategy targets +quantity / -quantity with one market order (a reversal is 2 × quantity, which
the NETTING OMS books as a closed position and a new one). With bar data the venue's market is the bar's
close when on_bar runs, so a market order fills at the close of the crossing bar. Zero fees, no latency,
no slippage (fill model defaults), margin account with leverage 1. Final equity = starting balance +
realised P&L of closed positions + unrealised P&L of the open one at the last close.

Prints one JSON line: {"engine","bars","runs_s":[...],"trades","final_equity",...}.
  .bench-venv/bin/python bench/python/nautilus_ma.py CSV [--fast 10 --slow 30 --runs 3]
"""
import argparse
import json
import time
from decimal import Decimal

import pandas as pd
import nautilus_trader
from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
from nautilus_trader.config import LoggingConfig, StrategyConfig
from nautilus_trader.indicators import SimpleMovingAverage
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.enums import AccountType, OmsType, OrderSide
from nautilus_trader.model.identifiers import InstrumentId, Symbol, Venue
from nautilus_trader.model.instruments import Equity
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.persistence.wranglers import BarDataWrangler
from nautilus_trader.trading.strategy import Strategy

VENUE = Venue("SIM")


class MaConfig(StrategyConfig, frozen=True):
    instrument_id: InstrumentId
    bar_type: BarType
    fast: int = 10
    slow: int = 30
    quantity: int = 1


class MaCrossover(Strategy):
    def __init__(self, config: MaConfig):
        super().__init__(config)
        self.fast = SimpleMovingAverage(config.fast)
        self.slow = SimpleMovingAverage(config.slow)
        self.relation = 0
        self.target = 0
        self.trades_closed = 0
        self.orders_submitted = 0
        self.realised = 0.0
        self.instrument = None

    def on_start(self):
        self.instrument = self.cache.instrument(self.config.instrument_id)
        self.register_indicator_for_bars(self.config.bar_type, self.fast)
        self.register_indicator_for_bars(self.config.bar_type, self.slow)
        self.subscribe_bars(self.config.bar_type)

    def on_bar(self, bar: Bar):
        if not self.slow.initialized:
            return
        f = self.fast.value
        s = self.slow.value
        now = 1 if f > s else -1 if f < s else self.relation
        prev = self.relation
        self.relation = now
        if prev == 0 or now == 0 or now == prev:
            return
        want = self.config.quantity if now == 1 else -self.config.quantity
        delta = want - self.target
        self.target = want
        side = OrderSide.BUY if delta > 0 else OrderSide.SELL
        order = self.order_factory.market(self.config.instrument_id, side, self.instrument.make_qty(abs(delta)))
        self.submit_order(order)
        self.orders_submitted += 1

    def on_position_closed(self, event):
        self.trades_closed += 1
        self.realised += event.realized_pnl.as_double()


def load_bars(csv_path, instrument, bar_type):
    df = pd.read_csv(csv_path)
    # Nautilus stamps a bar at its close: start + 1 minute, as MAOTrade's equity points.
    df.index = pd.to_datetime(df["start"] + 60_000, unit="ms", utc=True)
    df = df[["open", "high", "low", "close", "volume"]]
    return BarDataWrangler(bar_type, instrument).process(df)


def make_instrument():
    return Equity(
        instrument_id=InstrumentId(Symbol("BENCH"), VENUE),
        raw_symbol=Symbol("BENCH"),
        currency=USD,
        price_precision=4,
        price_increment=Price.from_str("0.0001"),
        lot_size=Quantity.from_int(1),
        ts_event=0,
        ts_init=0,
        maker_fee=Decimal(0),
        taker_fee=Decimal(0),
        margin_init=Decimal(0),
        margin_maint=Decimal(0),
    )


def run_once(bars, instrument, bar_type, fast, slow, cash):
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR", bypass_logging=True)))
    engine.add_venue(
        venue=VENUE,
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        base_currency=USD,
        starting_balances=[Money(cash, USD)],
        default_leverage=Decimal(1),
    )
    engine.add_instrument(instrument)
    engine.add_data(bars)
    strat = MaCrossover(MaConfig(instrument_id=instrument.id, bar_type=bar_type, fast=fast, slow=slow))
    engine.add_strategy(strat)
    t0 = time.perf_counter()
    engine.run()
    elapsed = time.perf_counter() - t0
    last_close = bars[-1].close
    open_pos = engine.cache.positions_open()
    unrealised = sum(p.unrealized_pnl(last_close).as_double() for p in open_pos)
    account = engine.portfolio.account(VENUE)
    res = {
        "trades": strat.trades_closed,
        "orders": strat.orders_submitted,
        "realised": strat.realised,
        "open_position": sum(p.signed_qty for p in open_pos),
        "final_equity": cash + strat.realised + unrealised,
        "account_balance": account.balance_total(USD).as_double(),
    }
    engine.dispose()
    return elapsed, res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--fast", type=int, default=10)
    ap.add_argument("--slow", type=int, default=30)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cash", type=float, default=100000.0)
    a = ap.parse_args()
    instrument = make_instrument()
    bar_type = BarType.from_str(f"{instrument.id}-1-MINUTE-LAST-EXTERNAL")
    t0 = time.perf_counter()
    bars = load_bars(a.csv, instrument, bar_type)
    load_s = time.perf_counter() - t0
    runs = []
    result = None
    for _ in range(max(1, a.runs)):
        elapsed, result = run_once(bars, instrument, bar_type, a.fast, a.slow, a.cash)
        runs.append(elapsed)
    print(json.dumps({"engine": "nautilus_trader", "version": nautilus_trader.__version__, "bars": len(bars), "load_s": load_s, "runs_s": runs, **result}))


if __name__ == "__main__":
    main()
