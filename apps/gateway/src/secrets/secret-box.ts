import { Inject, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';

/** What the API shows of a stored secret: whether it is set, and its last 4 characters. Never the value. */
export interface SecretView {
  set: boolean;
  last4: string | null;
}

/** A stored secret: AES-256-GCM ciphertext `v1.<keyId>.<iv>.<tag>.<data>` (base64url parts) + last 4 chars. */
export interface SealedSecret {
  sealed: string;
  last4: string;
}

interface Key {
  id: string;
  key: Buffer;
}

const parseKey = (spec: string): Key => {
  const i = spec.indexOf(':');
  return { id: spec.slice(0, i), key: Buffer.from(spec.slice(i + 1), 'base64') };
};

/** Development/test only (refused in production): derived from a fixed string, so it protects nothing. */
const DEV_KEY: Key = { id: 'dev', key: createHash('sha256').update('switchboard development secrets key').digest() };

export const last4 = (s: string) => (s.length <= 4 ? '•'.repeat(s.length) : s.slice(-4));
export const viewOf = (s: { last4: string | null } | null | undefined): SecretView => ({ set: !!s?.last4, last4: s?.last4 ?? null });

/**
 * Encrypts secrets at rest with AES-256-GCM (node:crypto). New secrets use SECRETS_KEY; any key in
 * SECRETS_OLD_KEYS (or the current one) decrypts, chosen by the key id stored in the ciphertext, so keys can be
 * rotated without downtime: add the new key, move the old one to SECRETS_OLD_KEYS, re-encrypt, then drop it.
 * Plaintexts are never logged and errors never include them.
 */
@Injectable()
export class SecretBox {
  /** Null in production without SECRETS_KEY: nothing can be stored (503), the configured default app still works. */
  private readonly current: Key | null;
  private readonly keys = new Map<string, Buffer>();

  constructor(@Inject(GATEWAY_CONFIG) cfg: Pick<GatewayConfig, 'SECRETS_KEY' | 'SECRETS_OLD_KEYS' | 'NODE_ENV'>) {
    const production = cfg.NODE_ENV === 'production';
    this.current = cfg.SECRETS_KEY ? parseKey(cfg.SECRETS_KEY) : production ? null : DEV_KEY;
    if (!this.current) new Logger('SecretBox').warn('SECRETS_KEY is not set: Meta apps and webhook subscriptions cannot be stored (docs/INTEGRATIONS.md)');
    for (const k of [...cfg.SECRETS_OLD_KEYS.map(parseKey), DEV_KEY]) {
      if (k === DEV_KEY && cfg.NODE_ENV === 'production') continue;
      this.keys.set(k.id, k.key);
    }
    if (this.current) this.keys.set(this.current.id, this.current.key);
  }

  private key(): Key {
    if (!this.current) throw new ServiceUnavailableException('storing secrets needs SECRETS_KEY (keyId:base64 of 32 bytes) in production; see docs/INTEGRATIONS.md');
    return this.current;
  }

  get currentKeyId(): string {
    return this.key().id;
  }

  seal(plain: string): SealedSecret {
    const current = this.key();
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', current.key, iv);
    const data = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    const parts = [iv, c.getAuthTag(), data].map((b) => b.toString('base64url'));
    return { sealed: ['v1', current.id, ...parts].join('.'), last4: last4(plain) };
  }

  open(sealed: string): string {
    const [v, keyId, iv, tag, data] = sealed.split('.');
    const key = this.keys.get(keyId);
    if (v !== 'v1' || !key) throw new Error(`stored secret uses unknown key "${keyId}" (add it to SECRETS_OLD_KEYS)`);
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    d.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([d.update(Buffer.from(data, 'base64url')), d.final()]).toString('utf8');
  }

  keyIdOf(sealed: string): string {
    return sealed.split('.')[1];
  }
}
