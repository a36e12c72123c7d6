/**
 * Opaque page cursors: base64url JSON, validated on the way in so a crafted cursor is a 400, never a
 * database error. Every field that reaches SQL must pass `check`.
 */
export function encodeCursor(o: unknown): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

export function decodeCursor<T>(cursor: string, check: (o: any) => boolean): T | null {
  try {
    const o = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return check(o) ? (o as T) : null;
  } catch {
    return null;
  }
}

/** A timestamp as PostgreSQL or JSON prints it (both are safe to cast with ::timestamptz). */
export const TIMESTAMP_TEXT = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2})?)?$/;
export const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
