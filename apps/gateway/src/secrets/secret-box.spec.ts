import { randomBytes } from 'node:crypto';
import { SecretBox } from './secret-box';

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

describe('SecretBox', () => {
  it('round-trips, never stores the plaintext, and uses a fresh IV each time', () => {
    const box = new SecretBox({ SECRETS_KEY: key('k1'), SECRETS_OLD_KEYS: [], NODE_ENV: 'test' });
    const a = box.seal('EAAG-very-secret-token-1234');
    const b = box.seal('EAAG-very-secret-token-1234');
    expect(a.sealed).not.toContain('very-secret');
    expect(a.sealed).not.toBe(b.sealed);
    expect(a.last4).toBe('1234');
    expect(box.keyIdOf(a.sealed)).toBe('k1');
    expect(box.open(a.sealed)).toBe('EAAG-very-secret-token-1234');
  });

  it('refuses a tampered ciphertext', () => {
    const box = new SecretBox({ SECRETS_KEY: key('k1'), SECRETS_OLD_KEYS: [], NODE_ENV: 'test' });
    const parts = box.seal('secret').sealed.split('.');
    parts[4] = Buffer.from('secreT').toString('base64url');
    expect(() => box.open(parts.join('.'))).toThrow();
  });

  it('rotates: the new key seals, an old key in SECRETS_OLD_KEYS still opens; a dropped key is named', () => {
    const k1 = key('k1');
    const k2 = key('k2');
    const old = new SecretBox({ SECRETS_KEY: k1, SECRETS_OLD_KEYS: [], NODE_ENV: 'test' }).seal('app-secret');
    const rotated = new SecretBox({ SECRETS_KEY: k2, SECRETS_OLD_KEYS: [k1], NODE_ENV: 'test' });
    expect(rotated.open(old.sealed)).toBe('app-secret');
    expect(rotated.keyIdOf(rotated.seal('x').sealed)).toBe('k2');
    const dropped = new SecretBox({ SECRETS_KEY: k2, SECRETS_OLD_KEYS: [], NODE_ENV: 'test' });
    expect(() => dropped.open(old.sealed)).toThrow(/unknown key "k1".*SECRETS_OLD_KEYS/);
  });

  it('stores nothing in production without a key (and never uses the development key there)', () => {
    const box = new SecretBox({ SECRETS_KEY: undefined, SECRETS_OLD_KEYS: [], NODE_ENV: 'production' });
    expect(() => box.seal('x')).toThrow(/needs SECRETS_KEY/);
    const devSealed = new SecretBox({ SECRETS_KEY: undefined, SECRETS_OLD_KEYS: [], NODE_ENV: 'development' }).seal('x').sealed;
    expect(() => box.open(devSealed)).toThrow(/unknown key "dev"/);
  });
});
