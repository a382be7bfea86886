/** Safe defaults in force (issue 11, item 8): a fresh session fixes its money limits from the broker's balance. */
import { bars, flat, scriptedSystem } from '../support/scripted-bars';
import { EngineHarness } from './engine-harness';

const SYM = 'UNIT';
const buy = (quantity: number) => [scriptedSystem('s', SYM, [{ frame: 1, action: 'buy', quantity }])];

test('without limits in the config, an order over 10% of the balance (100,000) is refused by notional, one under it passes', () => {
  const big = new EngineHarness({ systems: buy(101) });
  big.run(big.engine.startFresh());
  expect(big.engine.risk().limits).toMatchObject({ maxOrderNotional: 10_000, maxTotalExposure: 100_000 });
  big.feed(bars(SYM, flat(1, 100)));
  expect(big.kinds()).not.toContain('placeOrder');
  expect(big.engine.risk().lastRefusals[0]).toMatchObject({ rule: 'max-order-notional', quantity: 101 });

  const small = new EngineHarness({ systems: buy(99) });
  small.run(small.engine.startFresh());
  small.feed(bars(SYM, flat(1, 100)));
  expect(small.engine.positions()).toHaveLength(1);
});

test('a configured number is kept exactly, and null switches a default off', () => {
  const configured = new EngineHarness({ risk: { maxOrderNotional: 50_000 }, systems: buy(400) });
  configured.run(configured.engine.startFresh());
  configured.feed(bars(SYM, flat(1, 100)));
  expect(configured.engine.positions()).toHaveLength(1);

  const off = new EngineHarness({ risk: { maxOrderNotional: null, maxTotalExposure: null }, systems: buy(5_000) });
  off.run(off.engine.startFresh());
  expect(off.engine.risk().limits.maxOrderNotional).toBeUndefined();
  off.feed(bars(SYM, flat(1, 100)));
  expect(off.engine.positions()).toHaveLength(1);
});
