import { GraphMediaClient, sha256Matches } from './graph-media.client';

describe('GraphMediaClient host allow-list (no SSRF through payload fields)', () => {
  const client = new GraphMediaClient({
    baseUrl: 'http://127.0.0.1:3005',
    version: 'v23.0',
    token: 't',
    mediaHosts: ['lookaside.fbsbx.com'],
    maxBytes: 1000,
  });

  it.each([
    ['http://127.0.0.1:3005/files/1', true],
    ['https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1', true],
    ['https://LOOKASIDE.fbsbx.com/x', true],
    ['http://127.0.0.1:3006/files/1', false], // same address, other port
    ['http://localhost:3005/files/1', false],
    ['https://lookaside.fbsbx.com.evil.example/x', false],
    ['https://evil.example/?u=lookaside.fbsbx.com', false],
    ['https://user:pw@lookaside.fbsbx.com/x', false],
    ['file:///etc/passwd', false],
    ['ftp://lookaside.fbsbx.com/x', false],
    ['not a url', false],
  ])('%s → %s', (url, allowed) => {
    expect(client.isAllowed(url)).toBe(allowed);
  });

  it('refuses media ids that could change the look-up path', async () => {
    await expect(client.download('../../me/accounts')).rejects.toMatchObject({ retryable: false });
    await expect(client.download('1?x=http://evil')).rejects.toMatchObject({ retryable: false });
  });

  it('accepts the webhook sha256 in base64 or hex', () => {
    const got = { sha256Hex: 'ab'.repeat(32), sha256Base64: Buffer.from('ab'.repeat(32), 'hex').toString('base64') };
    expect(sha256Matches(got.sha256Base64, got)).toBe(true);
    expect(sha256Matches(got.sha256Hex.toUpperCase(), got)).toBe(true);
    expect(sha256Matches('AAAA', got)).toBe(false);
    expect(sha256Matches(null, got)).toBe(true);
  });
});
