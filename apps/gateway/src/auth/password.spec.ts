import { hashPassword, verifyPassword, DUMMY_HASH } from './password';
import { kindOf, newToken, tokenHash } from './tokens';

describe('password hashing (scrypt, per-user salt)', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(stored).toMatch(/^scrypt\$16384\$8\$1\$/);
    await expect(verifyPassword('correct horse battery', stored)).resolves.toBe(true);
    await expect(verifyPassword('correct horse batterY', stored)).resolves.toBe(false);
  });

  it('salts each hash, so the same password hashes differently', async () => {
    const [a, b] = await Promise.all([hashPassword('same password!'), hashPassword('same password!')]);
    expect(a).not.toBe(b);
    expect(a.split('$')[4]).not.toBe(b.split('$')[4]);
  });

  it('refuses anything against the dummy or a malformed hash', async () => {
    await expect(verifyPassword('', DUMMY_HASH)).resolves.toBe(false);
    await expect(verifyPassword('x', 'plain-text')).resolves.toBe(false);
  });
});

describe('opaque tokens', () => {
  it('are random, typed by prefix and hashed to 32 bytes', () => {
    const t = newToken('sba');
    expect(kindOf(t)).toBe('sba');
    expect(newToken('sba')).not.toBe(t);
    expect(tokenHash(t)).toHaveLength(32);
    expect(kindOf('Bearer nonsense')).toBeNull();
  });
});
