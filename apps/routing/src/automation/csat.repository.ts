import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { CsatSetting, CsatSurvey, PutCsatSettingV1, RequestOf } from '@app/contracts';

type Row = Record<string, any>;
const SETTING_COLS = `id, team_id, phone_number_id, enabled, question, button_text, comment_prompt, comment_minutes, sent_count, error_count, last_error, updated_at`;
/** TypeORM answers an UPDATE … RETURNING on PostgreSQL with `[rows, count]`. */
const updated = <T>(r: unknown): T[] => (Array.isArray(r) && r.length === 2 && Array.isArray(r[0]) && typeof r[1] === 'number' ? r[0] : (r as T[]));
const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);

const toSetting = (r: Row): CsatSetting => ({
  id: r.id,
  teamId: r.team_id ?? null,
  phoneNumberId: r.phone_number_id ?? null,
  enabled: r.enabled,
  question: r.question,
  buttonText: r.button_text,
  commentPrompt: r.comment_prompt ?? null,
  commentMinutes: Number(r.comment_minutes),
  sentCount: Number(r.sent_count),
  errorCount: Number(r.error_count),
  lastError: r.last_error ?? null,
  updatedAt: iso(r.updated_at)!,
});

export interface SurveyRow {
  id: string;
  conversation_id: string;
  episode: number;
  setting_id: string;
  phone_number_id: string;
  team_id: string | null;
  agent_id: string | null;
  status: 'sending' | 'sent' | 'not_sent';
  reason: string | null;
  comment_prompt: string | null;
  comment_minutes: number;
  sent_at: Date | null;
  rating: number | null;
  rated_at: Date | null;
  comment: string | null;
  version: number;
}

export const toSurvey = (r: SurveyRow): CsatSurvey => ({
  surveyId: r.id,
  conversationId: r.conversation_id,
  episode: Number(r.episode),
  teamId: r.team_id,
  agentId: r.agent_id,
  status: r.status,
  reason: r.reason,
  sentAt: iso(r.sent_at),
  rating: r.rating === null ? null : Number(r.rating),
  ratedAt: iso(r.rated_at),
  comment: r.comment,
});

/** CSAT settings and surveys (routing schema). */
@Injectable()
export class CsatRepository {
  async put(em: EntityManager, s: RequestOf<typeof PutCsatSettingV1>['setting']): Promise<CsatSetting> {
    const conflict = s.teamId ? `(team_id) WHERE team_id IS NOT NULL` : `(phone_number_id) WHERE phone_number_id IS NOT NULL`;
    const rows = await em.query(
      `INSERT INTO routing.csat_setting (id, team_id, phone_number_id, enabled, question, button_text, comment_prompt, comment_minutes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT ${conflict} DO UPDATE SET enabled = EXCLUDED.enabled, question = EXCLUDED.question, button_text = EXCLUDED.button_text,
         comment_prompt = EXCLUDED.comment_prompt, comment_minutes = EXCLUDED.comment_minutes, updated_at = now()
       RETURNING ${SETTING_COLS}`,
      [randomUUID(), s.teamId, s.phoneNumberId, s.enabled, s.question, s.buttonText, s.commentPrompt, s.commentMinutes],
    );
    return toSetting(rows[0]);
  }

  async list(em: EntityManager, teamIds: string[] | null): Promise<CsatSetting[]> {
    const rows = teamIds
      ? await em.query(`SELECT ${SETTING_COLS} FROM routing.csat_setting WHERE team_id = ANY($1) ORDER BY updated_at, id`, [teamIds])
      : await em.query(`SELECT ${SETTING_COLS} FROM routing.csat_setting ORDER BY updated_at, id`);
    return rows.map(toSetting);
  }

  async get(em: EntityManager, id: string, forUpdate = false): Promise<CsatSetting | null> {
    const rows = await em.query(`SELECT ${SETTING_COLS} FROM routing.csat_setting WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
    return rows[0] ? toSetting(rows[0]) : null;
  }

  /** The team's or the number's setting, locked (the before of a change). */
  async lockScope(em: EntityManager, s: { teamId: string | null; phoneNumberId: string | null }): Promise<CsatSetting | null> {
    const rows = s.teamId
      ? await em.query(`SELECT ${SETTING_COLS} FROM routing.csat_setting WHERE team_id = $1 FOR UPDATE`, [s.teamId])
      : await em.query(`SELECT ${SETTING_COLS} FROM routing.csat_setting WHERE phone_number_id = $1 FOR UPDATE`, [s.phoneNumberId]);
    return rows[0] ? toSetting(rows[0]) : null;
  }

  async delete(em: EntityManager, id: string): Promise<boolean> {
    const [, count] = await em.query(`DELETE FROM routing.csat_setting WHERE id = $1`, [id]);
    return count > 0;
  }

  /** The number's setting, else the team's; null when neither exists or the winning one is disabled. */
  async applicable(em: EntityManager, phoneNumberId: string, teamId: string | null): Promise<CsatSetting | null> {
    const rows = await em.query(
      `SELECT ${SETTING_COLS} FROM routing.csat_setting WHERE phone_number_id = $1 OR ($2::uuid IS NOT NULL AND team_id = $2::uuid)
       ORDER BY (phone_number_id IS NOT NULL) DESC LIMIT 1`,
      [phoneNumberId, teamId],
    );
    const s = rows[0] ? toSetting(rows[0]) : null;
    return s?.enabled ? s : null;
  }

  async counted(em: EntityManager, settingId: string, error: string | null): Promise<void> {
    if (error === null) await em.query(`UPDATE routing.csat_setting SET sent_count = sent_count + 1 WHERE id = $1`, [settingId]);
    else await em.query(`UPDATE routing.csat_setting SET error_count = error_count + 1, last_error = $2 WHERE id = $1`, [settingId, error.slice(0, 500)]);
  }

  /**
   * The conversation's episode: 1 for its first opening, +1 for each reopening by the customer (routing's audit
   * trail: `conversation.opened` / `conversation.reopened`). A resolve, a reopen by an agent and a resolve again stay
   * in one episode, so they never get a second survey.
   */
  async episodeOf(em: EntityManager, conversationId: string): Promise<number> {
    const [r] = await em.query(
      `SELECT count(*)::int AS n FROM routing.audit_entry WHERE conversation_id = $1 AND action IN ('conversation.opened', 'conversation.reopened')`,
      [conversationId],
    );
    return Math.max(1, r.n);
  }

  /**
   * Takes the episode's survey: the new row when this call inserted it; the existing row when its send never
   * finished (a redelivery resends it under the same idempotency key); null when the episode's survey is done.
   */
  async claim(
    em: EntityManager,
    s: { conversationId: string; episode: number; settingId: string; phoneNumberId: string; teamId: string | null; agentId: string | null; commentPrompt: string | null; commentMinutes: number },
  ): Promise<SurveyRow | null> {
    const inserted: SurveyRow[] = await em.query(
      `INSERT INTO routing.csat_survey (id, conversation_id, episode, setting_id, phone_number_id, team_id, agent_id, comment_prompt, comment_minutes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (conversation_id, episode) DO NOTHING RETURNING *`,
      [randomUUID(), s.conversationId, s.episode, s.settingId, s.phoneNumberId, s.teamId, s.agentId, s.commentPrompt, s.commentMinutes],
    );
    if (inserted.length) return inserted[0];
    const [existing] = await this.survey(em, s.conversationId, s.episode);
    return existing?.status === 'sending' ? existing : null;
  }

  private survey(em: EntityManager, conversationId: string, episode: number): Promise<SurveyRow[]> {
    return em.query(`SELECT * FROM routing.csat_survey WHERE conversation_id = $1 AND episode = $2`, [conversationId, episode]);
  }

  /** Finishes a send once: true for the one caller that moved it out of `sending`. */
  async finish(em: EntityManager, id: string, f: { status: 'sent' | 'not_sent'; at: Date; reason: string | null }): Promise<SurveyRow | null> {
    const rows = updated<SurveyRow>(await em.query(
      `UPDATE routing.csat_survey SET status = $2, sent_at = CASE WHEN $2 = 'sent' THEN $3::timestamptz END, reason = $4,
         version = version + CASE WHEN $2 = 'sent' THEN 1 ELSE 0 END
       WHERE id = $1 AND status = 'sending' RETURNING *`,
      [id, f.status, f.at, f.reason],
    ));
    return rows[0] ?? null;
  }

  async lock(em: EntityManager, id: string): Promise<SurveyRow | null> {
    const rows: SurveyRow[] = await em.query(`SELECT * FROM routing.csat_survey WHERE id = $1 FOR UPDATE`, [id]);
    return rows[0] ?? null;
  }

  async rate(em: EntityManager, id: string, rating: number, at: string, messageId: string): Promise<SurveyRow> {
    const rows = updated<SurveyRow>(
      await em.query(`UPDATE routing.csat_survey SET rating = $2, rated_at = $3, rating_message_id = $4, version = version + 1 WHERE id = $1 RETURNING *`, [
        id,
        rating,
        at,
        messageId,
      ]),
    );
    return rows[0];
  }

  async comment(em: EntityManager, id: string, comment: string): Promise<SurveyRow> {
    const rows = updated<SurveyRow>(await em.query(`UPDATE routing.csat_survey SET comment = $2, version = version + 1 WHERE id = $1 RETURNING *`, [id, comment]));
    return rows[0];
  }

  async forConversation(em: EntityManager, conversationId: string): Promise<SurveyRow[]> {
    return em.query(`SELECT * FROM routing.csat_survey WHERE conversation_id = $1 ORDER BY episode`, [conversationId]);
  }
}
