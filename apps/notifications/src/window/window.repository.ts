import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** Projection of the 24 h customer-service window: last customer message per (business number, contact). */
@Injectable()
export class WindowRepository {
  async upsertConversation(em: EntityManager, conversationId: string, phoneNumberId: string, contactId: string): Promise<void> {
    await em.query(
      `INSERT INTO notifications.conversation_ref (conversation_id, phone_number_id, contact_id) VALUES ($1, $2, $3)
       ON CONFLICT (conversation_id) DO UPDATE SET phone_number_id = EXCLUDED.phone_number_id, contact_id = EXCLUDED.contact_id`,
      [conversationId, phoneNumberId, contactId],
    );
  }

  async upsertContact(em: EntityManager, contactId: string, waId: string | null, userId: string | null): Promise<void> {
    await em.query(
      `INSERT INTO notifications.contact_ref (contact_id, wa_id, user_id) VALUES ($1, $2, $3)
       ON CONFLICT (contact_id) DO UPDATE SET wa_id = COALESCE(EXCLUDED.wa_id, contact_ref.wa_id), user_id = COALESCE(EXCLUDED.user_id, contact_ref.user_id)`,
      [contactId, waId, userId],
    );
  }

  /** Only ever moves forward, so redelivered or out-of-order events change nothing wrong. */
  async recordInbound(em: EntityManager, phoneNumberId: string, contactId: string, at: Date): Promise<void> {
    await em.query(
      `INSERT INTO notifications.service_window (phone_number_id, contact_id, last_inbound_at) VALUES ($1, $2, $3)
       ON CONFLICT (phone_number_id, contact_id) DO UPDATE SET last_inbound_at = GREATEST(service_window.last_inbound_at, EXCLUDED.last_inbound_at)`,
      [phoneNumberId, contactId, at],
    );
  }

  async findConversation(em: EntityManager, conversationId: string): Promise<{ phone_number_id: string; contact_id: string } | null> {
    const rows = await em.query(`SELECT phone_number_id, contact_id FROM notifications.conversation_ref WHERE conversation_id = $1`, [conversationId]);
    return rows[0] ?? null;
  }

  async lastInboundByContact(em: EntityManager, phoneNumberId: string, contactId: string): Promise<Date | null> {
    const rows = await em.query(
      `SELECT last_inbound_at FROM notifications.service_window WHERE phone_number_id = $1 AND contact_id = $2`,
      [phoneNumberId, contactId],
    );
    return rows[0]?.last_inbound_at ?? null;
  }

  /** By wa_id or BSUID, for sends without a conversation. */
  async lastInboundByRecipient(em: EntityManager, phoneNumberId: string, to: string): Promise<Date | null> {
    const rows = await em.query(
      `SELECT max(w.last_inbound_at) AS at FROM notifications.service_window w
       JOIN notifications.contact_ref c ON c.contact_id = w.contact_id
       WHERE w.phone_number_id = $1 AND (c.wa_id = $2 OR c.user_id = $2)`,
      [phoneNumberId, to],
    );
    return rows[0]?.at ?? null;
  }
}
