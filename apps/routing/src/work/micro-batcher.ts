import { currentContext, runWithContext, type RequestContext } from '@app/messaging';

interface Waiting<T> {
  item: T;
  context: RequestContext | undefined;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Groups work that arrives concurrently (a consumer's parallel deliveries) into batches for one transaction each.
 * No timer: the first item starts a batch at once; whatever arrives while `maxInFlight` batches run waits and forms
 * the next batch (up to `maxSize`), so a quiet stream costs no latency and a burst gets big batches. `submit`
 * resolves when the item's batch has committed (the caller then acks). If a batch fails, each of its items is run
 * alone, so one bad item fails only itself (and is retried or dead-lettered by the consumer) and the rest succeed.
 * Each item carries the async context (correlation id) it was submitted in; `run` can restore it with `within`.
 */
export class MicroBatcher<T> {
  private readonly queue: Waiting<T>[] = [];
  private inFlight = 0;

  constructor(
    private readonly run: (items: { item: T; within: <R>(fn: () => R) => R }[]) => Promise<void>,
    private readonly maxSize: number,
    private readonly maxInFlight: number,
  ) {}

  submit(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, context: currentContext(), resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length) {
      const batch = this.queue.splice(0, this.maxSize);
      this.inFlight++;
      void this.settle(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async settle(batch: Waiting<T>[]): Promise<void> {
    try {
      await this.run(batch.map(entry));
      for (const w of batch) w.resolve();
      return;
    } catch (err) {
      if (batch.length === 1) {
        batch[0].reject(err);
        return;
      }
    }
    for (const w of batch) {
      await this.run([entry(w)]).then(w.resolve, w.reject);
    }
  }
}

function entry<T>(w: Waiting<T>): { item: T; within: <R>(fn: () => R) => R } {
  return { item: w.item, within: (fn) => (w.context ? runWithContext(w.context, fn) : fn()) };
}
