import { createHash, randomBytes } from 'node:crypto';

/** Opaque bearer tokens: `sba_` access, `sbr_` refresh, `sbk_` API key. Only their SHA-256 is stored. */
export type TokenKind = 'sba' | 'sbr' | 'sbk';

export function newToken(kind: TokenKind): string {
  return `${kind}_${randomBytes(32).toString('base64url')}`;
}

export function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export function kindOf(token: string): TokenKind | null {
  const k = token.slice(0, 3);
  return token[3] === '_' && (k === 'sba' || k === 'sbr' || k === 'sbk') ? k : null;
}
