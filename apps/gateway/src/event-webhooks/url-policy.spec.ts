import { checkTargetUrl, isPrivateAddress, UrlPolicyError } from './url-policy';

const strict = { httpHosts: [], allowPrivate: false };
const dns = (table: Record<string, string[]>) => async (host: string) => {
  if (!table[host]) throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' });
  return table[host].map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};
const rule = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'allowed';
  } catch (err) {
    return err instanceof UrlPolicyError ? err.rule : `unexpected: ${err}`;
  }
};

describe('event webhook URL policy', () => {
  it('knows private, loopback, link-local and mapped addresses', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1'])
      expect([a, isPrivateAddress(a)]).toEqual([a, true]);
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1111']) expect([a, isPrivateAddress(a)]).toEqual([a, false]);
  });

  it('names the rule a URL breaks', async () => {
    const resolve = dns({ 'hooks.example.com': ['93.184.216.34'], 'evil.example.com': ['93.184.216.34', '10.0.0.5'], 'meta.example.com': ['169.254.169.254'] });
    expect(await rule(checkTargetUrl('https://hooks.example.com/in', strict, resolve))).toBe('allowed');
    expect(await rule(checkTargetUrl('not a url', strict, resolve))).toBe('valid-url');
    expect(await rule(checkTargetUrl('ftp://hooks.example.com/', strict, resolve))).toBe('valid-url');
    expect(await rule(checkTargetUrl('http://hooks.example.com/in', strict, resolve))).toBe('https-only');
    expect(await rule(checkTargetUrl('https://u:p@hooks.example.com/in', strict, resolve))).toBe('no-credentials');
    expect(await rule(checkTargetUrl('https://nowhere.example.com/', strict, resolve))).toBe('resolvable-host');
    expect(await rule(checkTargetUrl('https://evil.example.com/', strict, resolve))).toBe('public-address');
    expect(await rule(checkTargetUrl('https://meta.example.com/', strict, resolve))).toBe('public-address');
    expect(await rule(checkTargetUrl('https://127.0.0.1:8443/', strict, resolve))).toBe('public-address');
    expect(await rule(checkTargetUrl('https://[::1]/', strict, resolve))).toBe('public-address');
  });

  it('allows development hosts over http and private addresses only when configured', async () => {
    const dev = { httpHosts: ['localhost', '127.0.0.1'], allowPrivate: true };
    expect(await rule(checkTargetUrl('http://127.0.0.1:9000/hook', dev))).toBe('allowed');
    expect(await rule(checkTargetUrl('http://127.0.0.1:9000/hook', { ...dev, allowPrivate: false }))).toBe('public-address');
    expect(await rule(checkTargetUrl('http://10.0.0.1/hook', dev))).toBe('https-only');
  });
});
