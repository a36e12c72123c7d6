import { BaseConfigSchema } from './schemas';
import { ConfigError, parseConfig } from './parse-config';

describe('parseConfig', () => {
  it('names a bad DATABASE_URL and why, without printing its value', () => {
    const secret = 'not a url with password hunter2';
    let error: unknown;
    try {
      parseConfig(BaseConfigSchema, { DATABASE_URL: secret });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^Invalid configuration -> DATABASE_URL: must be a URL like postgres:\/\//);
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('rejects a DATABASE_URL with the wrong protocol', () => {
    expect(() => parseConfig(BaseConfigSchema, { DATABASE_URL: 'mysql://127.0.0.1/db' })).toThrow(/DATABASE_URL/);
  });

  it('lists every bad setting in one line', () => {
    expect(() => parseConfig(BaseConfigSchema, { NATS_URL: 'http://x', LOG_LEVEL: 'loud' })).toThrow(
      /NATS_URL: .*; LOG_LEVEL: /,
    );
  });

  it('fills local defaults so a bare machine works', () => {
    const cfg = parseConfig(BaseConfigSchema, {});
    expect(cfg.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/switchboard');
    expect(cfg.NATS_URL).toBe('nats://127.0.0.1:4222');
    expect(cfg.NODE_ENV).toBe('development');
  });
});
