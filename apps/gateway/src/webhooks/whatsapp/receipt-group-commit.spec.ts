import type { DataSource } from 'typeorm';
import { ReceiptGroupCommit } from './receipt-group-commit';
import type { NewReceipt, WebhookReceiptRepository } from './webhook-receipt.repository';

/** A repository whose statement fails whenever it holds the receipt with body 'bad' (as an unstorable row would). */
function fakeRepository() {
  const statements: string[][] = [];
  const stored: string[] = [];
  const repo = {
    async insertManyWithEvents(_em: unknown, rs: NewReceipt[]) {
      statements.push(rs.map((r) => r.id));
      await new Promise((r) => setTimeout(r, 5));
      if (rs.some((r) => r.body === 'bad')) throw new Error('invalid byte sequence');
      stored.push(...rs.map((r) => r.id));
    },
  };
  return { repo: repo as unknown as WebhookReceiptRepository, statements, stored };
}

const receipt = (id: string, body = '{}'): NewReceipt => ({ id, appIndex: 0, body, byteLength: body.length });

describe('ReceiptGroupCommit', () => {
  it('stores concurrent receipts several per statement and settles each caller after its statement', async () => {
    const { repo, statements, stored } = fakeRepository();
    const gc = new ReceiptGroupCommit({ manager: {} } as DataSource, repo);
    const ids = Array.from({ length: 40 }, (_, i) => `r${i}`);
    await Promise.all(ids.map((id) => gc.store(receipt(id)).then(() => expect(stored).toContain(id))));
    expect([...stored].sort()).toEqual([...ids].sort());
    expect(statements.length).toBeLessThan(40);
    expect(Math.max(...statements.map((s) => s.length))).toBeGreaterThan(1);
  });

  it('keeps a statement under 4 MiB of bodies: large receipts go in smaller groups', async () => {
    const { repo, statements, stored } = fakeRepository();
    const gc = new ReceiptGroupCommit({ manager: {} } as DataSource, repo);
    const big = (id: string): NewReceipt => ({ id, appIndex: 0, body: '{}', byteLength: 1.5 * 1024 * 1024 });
    const ids = Array.from({ length: 12 }, (_, i) => `b${i}`);
    await Promise.all(ids.map((id) => gc.store(big(id))));
    expect(stored).toHaveLength(12);
    expect(Math.max(...statements.map((s) => s.length))).toBe(2);
  });

  it('a receipt that cannot be stored fails alone: its group is retried one receipt per statement', async () => {
    const { repo, stored } = fakeRepository();
    const gc = new ReceiptGroupCommit({ manager: {} } as DataSource, repo);
    const ids = Array.from({ length: 20 }, (_, i) => `r${i}`);
    const results = await Promise.allSettled(ids.map((id) => gc.store(receipt(id, id === 'r13' ? 'bad' : '{}'))));
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect(results[13]).toMatchObject({ status: 'rejected', reason: expect.objectContaining({ message: 'invalid byte sequence' }) });
    expect([...stored].sort()).toEqual(ids.filter((id) => id !== 'r13').sort());
  });
});
