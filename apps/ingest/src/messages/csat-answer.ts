import type { EntityManager } from 'typeorm';
import { CSAT_REPLY_ID } from '@app/contracts';
import type { ConversationRow } from '../conversations/conversation.repository';
import { one } from '../db.util';
import type { NormalizedMessage } from '../normalize/normalized.types';

export interface CsatAnswer {
  surveyId: string;
  rating: number | null;
  comment: string | null;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** The survey row a customer picked: an interactive list_reply / button_reply whose id is a CSAT row id. */
export function csatPickOf(type: string, content: unknown): { surveyId: string; rating: number; commentMinutes: number } | null {
  if (type !== 'interactive' || !isObj(content)) return null;
  const kind = content.type;
  if (kind !== 'list_reply' && kind !== 'button_reply') return null;
  const reply = content[kind];
  const id = isObj(reply) && typeof reply.id === 'string' ? reply.id : null;
  const m = id ? CSAT_REPLY_ID.exec(id) : null;
  return m ? { surveyId: m[1], rating: Number(m[2]), commentMinutes: Number(m[3]) } : null;
}

/**
 * Whether a customer message (already inserted as `messageId`) answers a CSAT survey: a survey row picked is a
 * rating; a text message on a still-resolved conversation whose previous customer message was a rating asking for a
 * comment, within that rating's comment minutes, is the comment. Anything else is an ordinary customer message.
 * WhatsApp stamps whole seconds, so messages of one second are ordered as they were stored (`seq`), never by id.
 */
export async function csatAnswerOf(em: EntityManager, c: ConversationRow, m: NormalizedMessage, messageId: string): Promise<CsatAnswer | null> {
  if (m.origin !== 'customer') return null;
  const pick = csatPickOf(m.type, m.content);
  if (pick) return { surveyId: pick.surveyId, rating: pick.rating, comment: null };
  if (m.type !== 'text' || c.status !== 'resolved' || !m.text.trim()) return null;
  const prev = await one<{ type: string; content: unknown; sent_at: Date }>(
    em,
    `SELECT type, content, sent_at FROM ingest.message
     WHERE conversation_id = $1 AND direction = 'inbound' AND origin = 'customer' AND id <> $2 AND sent_at <= $3
     ORDER BY sent_at DESC, seq DESC LIMIT 1`,
    [c.id, messageId, m.sentAt],
  );
  const rated = prev ? csatPickOf(prev.type, prev.content) : null;
  if (!rated || rated.commentMinutes === 0) return null;
  if (m.sentAt.getTime() - new Date(prev!.sent_at).getTime() > rated.commentMinutes * 60_000) return null;
  return { surveyId: rated.surveyId, rating: null, comment: m.text.slice(0, 4096) };
}
