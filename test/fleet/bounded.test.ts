import { mapBounded } from '../../fleet/bounded';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('never more than `limit` calls in flight, every item once, results in the items order', async () => {
  let inFlight = 0;
  let most = 0;
  const seen: number[] = [];
  const items = Array.from({ length: 17 }, (_, i) => i);
  const out = await mapBounded(items, 4, async (n) => {
    inFlight++;
    most = Math.max(most, inFlight);
    seen.push(n);
    await sleep((n * 7) % 5); // finish out of order
    inFlight--;
    return n * 10;
  });
  expect(most).toBe(4);
  expect(seen.sort((a, b) => a - b)).toEqual(items);
  expect(out).toEqual(items.map((n) => n * 10));
});

test('fewer items than the limit, and none', async () => {
  expect(await mapBounded([1, 2], 8, async (n) => n + 1)).toEqual([2, 3]);
  expect(await mapBounded([], 8, async () => 1)).toEqual([]);
});

test('a limit below 1 is refused', async () => {
  await expect(mapBounded([1], 0, async (n) => n)).rejects.toThrow('limit must be an integer >= 1, got 0');
});
