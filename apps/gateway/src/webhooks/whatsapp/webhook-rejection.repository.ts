import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** Bytes of a refused body kept in its dead letter; the rest is cut (the row says so and keeps the size received). */
export const WEBHOOK_REJECTED_BODY_MAX = 64 * 1024;

export interface NewRejection {
  id: string;
  appIndex: number | null;
  httpStatus: number;
  reason: string;
  body: Buffer;
}

export interface RejectionView {
  id: string;
  receivedAt: string;
  appIndex: number | null;
  httpStatus: number;
  reason: string;
  body: string;
  byteLength: number;
  bodyTruncated: boolean;
}

/**
 * The first WEBHOOK_REJECTED_BODY_MAX bytes as text, cut at a character boundary; NUL (which PostgreSQL text cannot
 * hold) becomes U+FFFD, as invalid UTF-8 already does when decoded.
 */
export function storableBody(raw: Buffer): { text: string; truncated: boolean } {
  let end = Math.min(raw.length, WEBHOOK_REJECTED_BODY_MAX);
  if (end < raw.length) while (end > 0 && (raw[end] & 0xc0) === 0x80) end--; // not inside a UTF-8 sequence
  return { text: raw.subarray(0, end).toString('utf8').replace(/\u0000/g, '\ufffd'), truncated: end < raw.length };
}

@Injectable()
export class WebhookRejectionRepository {
  async insert(em: EntityManager, r: NewRejection): Promise<void> {
    const { text, truncated } = storableBody(r.body);
    await em.query(
      `INSERT INTO gateway.webhook_rejected (id, app_index, http_status, reason, body, byte_length, body_truncated)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [r.id, r.appIndex, r.httpStatus, r.reason.slice(0, 1000), text, r.body.length, truncated],
    );
  }

  /** Newest first. */
  async listNewest(em: EntityManager, limit: number): Promise<RejectionView[]> {
    const rows: Record<string, any>[] = await em.query(
      `SELECT id, received_at, app_index, http_status, reason, body, byte_length, body_truncated
       FROM gateway.webhook_rejected ORDER BY received_at DESC, id DESC LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({
      id: r.id,
      receivedAt: (r.received_at as Date).toISOString(),
      appIndex: r.app_index,
      httpStatus: r.http_status,
      reason: r.reason,
      body: r.body,
      byteLength: r.byte_length,
      bodyTruncated: r.body_truncated,
    }));
  }
}
