import { mergeStatus } from './status-rank';

describe('mergeStatus (monotonic rank merge)', () => {
  const fold = (seq: string[]) => seq.reduce<string | null>((cur, s) => mergeStatus(cur, s) ?? cur, null);

  it.each([
    [['sent', 'delivered', 'read'], 'read'],
    [['read', 'delivered', 'sent'], 'read'], // late delivered never moves read back
    [['delivered', 'read', 'delivered'], 'read'],
    [['sent', 'read'], 'read'], // read without delivered
    [['queued', 'sent'], 'sent'],
    [['sent', 'queued'], 'sent'],
    [['read', 'played'], 'played'],
    [['sent', 'failed'], 'failed'],
    [['failed', 'sent'], 'failed'],
    [['queued', 'failed', 'sent'], 'failed'],
    [['failed', 'delivered'], 'delivered'], // later proof of delivery beats failed
    [['delivered', 'failed'], 'delivered'],
    [['read', 'failed'], 'read'],
    [['sent', 'deleted'], 'sent'], // unknown status ignored
  ])('%j ends as %s', (seq, expected) => {
    expect(fold(seq as string[])).toBe(expected);
  });

  it('reports no move for the same status', () => {
    expect(mergeStatus('read', 'read')).toBeNull();
    expect(mergeStatus('sent', 'delivered')).toBe('delivered');
  });
});
