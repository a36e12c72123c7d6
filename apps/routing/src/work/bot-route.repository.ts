import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface BotRef {
  id: string;
  name: string | null;
}

/** `routing.number_bot`: which bot new conversations on a business number go to. */
@Injectable()
export class BotRouteRepository {
  async forNumber(em: EntityManager, phoneNumberId: string): Promise<BotRef | null> {
    const rows = await em.query(`SELECT bot_id, bot_name FROM routing.number_bot WHERE phone_number_id = $1`, [phoneNumberId]);
    return rows[0] ? { id: rows[0].bot_id, name: rows[0].bot_name } : null;
  }

  async set(em: EntityManager, phoneNumberId: string, bot: BotRef | null): Promise<void> {
    if (!bot) {
      await em.query(`DELETE FROM routing.number_bot WHERE phone_number_id = $1`, [phoneNumberId]);
      return;
    }
    await em.query(
      `INSERT INTO routing.number_bot (phone_number_id, bot_id, bot_name) VALUES ($1, $2, $3)
       ON CONFLICT (phone_number_id) DO UPDATE SET bot_id = excluded.bot_id, bot_name = excluded.bot_name, updated_at = clock_timestamp()`,
      [phoneNumberId, bot.id, bot.name],
    );
  }

  /** Removes every number's route to the bot; returns the numbers it served. */
  async removeBot(em: EntityManager, botId: string): Promise<string[]> {
    const rows = await em.query(`DELETE FROM routing.number_bot WHERE bot_id = $1 RETURNING phone_number_id`, [botId]);
    return (Array.isArray(rows[0]) ? rows[0] : rows).map((r: { phone_number_id: string }) => r.phone_number_id);
  }

  /**
   * Revoking a bot and holding for it exclude each other: a hold (or a number's route) takes the bot's lock shared
   * and then checks `routing.revoked_bot`; the revoke takes it exclusively while it records the bot as revoked. So a
   * hold that started before the revoke commits before the revoke records it (and the release that follows sees it),
   * and a hold after it sees the bot revoked.
   */
  async lockBot(em: EntityManager, botId: string, mode: 'hold' | 'revoke'): Promise<void> {
    const fn = mode === 'hold' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
    await em.query(`SELECT ${fn}(hashtextextended($1, 0))`, [`routing.bot:${botId}`]);
  }

  /** Under the bot's lock (shared): whether its API key was revoked. */
  async isRevoked(em: EntityManager, botId: string): Promise<boolean> {
    await this.lockBot(em, botId, 'hold');
    const rows = await em.query(`SELECT 1 FROM routing.revoked_bot WHERE bot_id = $1`, [botId]);
    return rows.length > 0;
  }

  /** Under the bot's lock (exclusive): the bot's API key was revoked; nothing may hold for it from now on. */
  async markRevoked(em: EntityManager, botId: string): Promise<void> {
    await this.lockBot(em, botId, 'revoke');
    await em.query(`INSERT INTO routing.revoked_bot (bot_id) VALUES ($1) ON CONFLICT DO NOTHING`, [botId]);
  }

  /** The conversations a bot holds, locked (oldest first). */
  async heldBy(em: EntityManager, botId: string, limit: number): Promise<string[]> {
    const rows = await em.query(
      `SELECT conversation_id FROM routing.conversation_work WHERE bot_id = $1 ORDER BY bot_since, conversation_id LIMIT $2 FOR UPDATE`,
      [botId, limit],
    );
    return rows.map((r: { conversation_id: string }) => r.conversation_id);
  }
}
