import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { rowsOf } from '../delivery/send.repository';

export interface TemplateRow {
  waba_id: string;
  name: string;
  language: string;
  status: string;
  body_param_count: number | null;
}

/** Distinct `{{n}}` / `{{name}}` placeholders in the BODY component. */
export function bodyPlaceholders(components: unknown): number | null {
  if (!Array.isArray(components)) return null;
  const body = components.find((c) => typeof c?.type === 'string' && c.type.toUpperCase() === 'BODY') as { text?: unknown } | undefined;
  if (!body) return 0;
  if (typeof body.text !== 'string') return null;
  return new Set([...body.text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1])).size;
}

export interface StoredTemplateRow {
  waba_id: string;
  template_id: string | null;
  name: string;
  language: string;
  status: string;
  category: string | null;
  components: unknown;
  body_param_count: number | null;
  synced_at: Date | null;
  updated_at: Date;
}

@Injectable()
export class TemplateRepository {
  async upsertSynced(
    em: EntityManager,
    t: { wabaId: string; name: string; language: string; id: string | null; status: string; category: string | null; components: unknown },
  ): Promise<void> {
    await em.query(
      `INSERT INTO notifications.whatsapp_template (waba_id, name, language, template_id, status, category, components, body_param_count, synced_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, clock_timestamp(), clock_timestamp())
       ON CONFLICT (waba_id, name, language) DO UPDATE SET template_id = EXCLUDED.template_id, status = EXCLUDED.status,
         category = EXCLUDED.category, components = EXCLUDED.components, body_param_count = EXCLUDED.body_param_count,
         synced_at = EXCLUDED.synced_at, updated_at = EXCLUDED.updated_at`,
      [t.wabaId, t.name, t.language, t.id, t.status, t.category, JSON.stringify(t.components ?? null), bodyPlaceholders(t.components)],
    );
  }

  async now(em: EntityManager): Promise<string> {
    return (await em.query(`SELECT clock_timestamp()::text AS t`))[0].t;
  }

  /** After a complete sync of a WABA: drop the templates its listing no longer had. */
  async removeNotSyncedSince(em: EntityManager, wabaId: string, since: string): Promise<number> {
    return rowsOf(await em.query(`DELETE FROM notifications.whatsapp_template WHERE waba_id = $1 AND synced_at < $2::timestamptz RETURNING name`, [wabaId, since])).length;
  }

  /** Every stored template of the WABAs (all when null), any status unless given, for the admin screen. */
  async listStored(em: EntityManager, wabaIds: string[] | null, status: string | null): Promise<StoredTemplateRow[]> {
    return em.query(
      `SELECT waba_id, template_id, name, language, status, category, components, body_param_count, synced_at, updated_at
         FROM notifications.whatsapp_template
        WHERE ($1::text[] IS NULL OR waba_id = ANY($1)) AND ($2::text IS NULL OR status = $2)
        ORDER BY waba_id, name, language`,
      [wabaIds, status],
    );
  }

  /** When the templates of these WABAs (all when null) were last listed by the Graph API. */
  async lastSyncedAt(em: EntityManager, wabaIds: string[] | null): Promise<Date | null> {
    const rows = await em.query(`SELECT max(synced_at) AS t FROM notifications.whatsapp_template WHERE ($1::text[] IS NULL OR waba_id = ANY($1))`, [wabaIds]);
    return rows[0]?.t ?? null;
  }

  /** From a `message_template_status_update` webhook. Returns the rows changed (0 = template unknown here). */
  async applyStatus(em: EntityManager, u: { wabaId: string | null; templateId: string | null; name: string | null; language: string | null; status: string }): Promise<number> {
    const rows = rowsOf(await em.query(
      `UPDATE notifications.whatsapp_template SET status = $5, updated_at = clock_timestamp()
       WHERE ($1::text IS NULL OR waba_id = $1)
         AND (($2::text IS NOT NULL AND template_id = $2) OR ($3::text IS NOT NULL AND name = $3 AND ($4::text IS NULL OR language = $4)))
       RETURNING name`,
      [u.wabaId, u.templateId, u.name, u.language, u.status],
    ));
    return rows.length;
  }

  async find(em: EntityManager, name: string, language: string): Promise<TemplateRow | null> {
    const rows: TemplateRow[] = await em.query(
      `SELECT waba_id, name, language, status, body_param_count FROM notifications.whatsapp_template
       WHERE name = $1 AND language = $2 ORDER BY (status = 'APPROVED') DESC, updated_at DESC LIMIT 1`,
      [name, language],
    );
    return rows[0] ?? null;
  }

  /** APPROVED templates with their body text (what an agent picks from). */
  async listApproved(em: EntityManager): Promise<Array<{ name: string; language: string; category: string | null; components: unknown; body_param_count: number | null }>> {
    return em.query(
      `SELECT DISTINCT ON (name, language) name, language, category, components, body_param_count FROM notifications.whatsapp_template
       WHERE status = 'APPROVED' ORDER BY name, language, updated_at DESC`,
    );
  }
}
