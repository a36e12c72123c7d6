import { OpenLoopLoad } from './open-loop-load';

describe('OpenLoopLoad', () => {
  const load = (answer: (item: number, attempt: number) => number) =>
    new OpenLoopLoad({
      ratePerS: 1000,
      maxInFlight: 8,
      phase: () => 'only',
      retryDelayMs: () => 1,
      send: async (item, attempt) => ({ status: answer(item, attempt), ms: 0 }),
    });

  it('stops even when every webhook is refused with a 4xx (a 401 regression), with the refusals counted', async () => {
    const l = load(() => 401);
    l.start();
    await new Promise((r) => setTimeout(r, 30));
    await l.stop();
    expect(l.items).toBeGreaterThan(0);
    expect(l.refused).toEqual({ 401: l.items });
    expect(l.answers).toEqual({ 401: l.items * 3 });
    expect(l.accepted.size).toBe(0);
  });

  it('still retries a 503 and a 429 until the 200', async () => {
    const l = load((item, attempt) => (attempt <= 4 ? (item % 2 ? 503 : 429) : 200));
    l.start();
    await new Promise((r) => setTimeout(r, 30));
    await l.stop();
    expect(l.refused).toEqual({});
    expect(l.accepted.size).toBe(l.items);
  });
});
