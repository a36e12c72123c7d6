import type { ReportFilter } from '@app/contracts';

/** Builds the WHERE of a report query: time range on `time`, the caller's team scope, team, agent, number. */
export class Where {
  readonly params: unknown[] = [];
  private readonly parts: string[] = [];

  param(v: unknown): string {
    this.params.push(v);
    return `$${this.params.length}`;
  }

  add(sql: string): this {
    this.parts.push(sql);
    return this;
  }

  range(col: string, f: Pick<ReportFilter, 'from' | 'to'>): this {
    return this.add(`${col} >= ${this.param(f.from)}::timestamptz AND ${col} < ${this.param(f.to)}::timestamptz`);
  }

  /** Team scope (null = all teams, which includes conversations without a team) and the optional team filter. */
  teams(col: string, f: Pick<ReportFilter, 'teamIds' | 'teamId'>): this {
    if (f.teamIds) this.add(`${col} = ANY(${this.param(f.teamIds)}::uuid[])`);
    if (f.teamId) this.add(`${col} = ${this.param(f.teamId)}::uuid`);
    return this;
  }

  eq(col: string, v: string | undefined, cast = 'text'): this {
    return v === undefined ? this : this.add(`${col} = ${this.param(v)}::${cast}`);
  }

  /** Keyset: rows after (time, id) of the cursor. */
  after(timeCol: string, idCol: string, cursor: [string, string] | null, idCast = 'uuid'): this {
    return cursor ? this.add(`(${timeCol}, ${idCol}) > (${this.param(cursor[0])}::timestamptz, ${this.param(cursor[1])}::${idCast})`) : this;
  }

  toString(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

/** `t` is the database's own text of the timestamp (microseconds kept: a millisecond ISO string would repeat rows). */
export const encodeCursor = (t: string, id: string) => Buffer.from(JSON.stringify([t, id])).toString('base64url');
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)?$/;
const ID = /^[0-9a-f-]{36}$/i;

export function decodeCursor(c: string | null): [string, string] | null {
  if (!c) return null;
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && TIMESTAMP.test(String(v[0])) && ID.test(String(v[1]))) return [v[0], v[1]];
  } catch {
    /* fall through */
  }
  return null;
}
