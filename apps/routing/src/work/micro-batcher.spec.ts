import { currentCorrelationId, runWithContext } from '@app/messaging';
import { MicroBatcher } from './micro-batcher';

const tick = () => new Promise((r) => setImmediate(r));

describe('MicroBatcher (groups concurrent deliveries into batch transactions)', () => {
  it('runs the first item at once and groups what arrives meanwhile, up to the size, with at most N batches running', async () => {
    const batches: number[][] = [];
    let running = 0;
    let maxRunning = 0;
    const release: (() => void)[] = [];
    const batcher = new MicroBatcher<number>(
      async (items) => {
        batches.push(items.map((i) => i.item));
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise<void>((r) => release.push(r));
        running--;
      },
      3,
      1,
    );
    const done = [1, 2, 3, 4, 5, 6].map((n) => batcher.submit(n));
    await tick();
    expect(batches).toEqual([[1]]); // no waiting for company
    release.shift()!();
    await tick();
    expect(batches).toEqual([[1], [2, 3, 4]]);
    release.shift()!();
    await tick();
    release.shift()!();
    await Promise.all(done);
    expect(batches).toEqual([[1], [2, 3, 4], [5, 6]]);
    expect(maxRunning).toBe(1);
  });

  it('a failing batch is retried item by item: only the bad item fails, the others resolve', async () => {
    const runs: string[][] = [];
    const batcher = new MicroBatcher<string>(
      async (items) => {
        runs.push(items.map((i) => i.item));
        if (items.some((i) => i.item === 'bad')) throw new Error('bad item');
      },
      10,
      1,
    );
    const first = batcher.submit('first');
    const results = await Promise.allSettled([first, ...['a', 'bad', 'b'].map((x) => batcher.submit(x))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason.message).toBe('bad item');
    expect(runs).toEqual([['first'], ['a', 'bad', 'b'], ['a'], ['bad'], ['b']]);
  });

  it("`within` restores each item's own correlation id inside the batch", async () => {
    const seen: (string | undefined)[] = [];
    const batcher = new MicroBatcher<string>(
      async (items) => {
        for (const i of items) i.within(() => seen.push(currentCorrelationId()));
      },
      10,
      1,
    );
    await Promise.all(['c1', 'c2', 'c3'].map((id) => runWithContext({ correlationId: id }, () => batcher.submit(id))));
    expect(seen).toEqual(['c1', 'c2', 'c3']);
  });
});
