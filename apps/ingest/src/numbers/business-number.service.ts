import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { autoRegisterNumbers, INGEST_CONFIG, type IngestConfig } from '../config';
import { ingestMetrics } from '../ingest.metrics';
import type { NumberRef } from '../normalize/normalized.types';

/**
 * Business numbers (Meta phone_number_id). An unknown number is never dropped: it is kept (registered when
 * WHATSAPP_AUTO_REGISTER_NUMBERS is on, otherwise recorded as unregistered) and reported (metric; log at info when
 * registered, warn when not).
 */
@Injectable()
export class BusinessNumberService {
  private readonly log = new Logger('BusinessNumbers');
  /** Numbers whose row exists with WABA and display number filled in (only grows; filled after commit). */
  private readonly complete = new Set<string>();

  constructor(@Inject(INGEST_CONFIG) private readonly cfg: IngestConfig) {}

  async ensure(em: EntityManager, n: NumberRef): Promise<void> {
    if (this.complete.has(n.phoneNumberId)) return;
    const register = autoRegisterNumbers(this.cfg);
    const inserted = await em.query(
      `INSERT INTO ingest.business_number (phone_number_id, waba_id, display_phone_number, registered, auto_registered)
       VALUES ($1, $2, $3, $4, $4) ON CONFLICT (phone_number_id) DO NOTHING RETURNING registered`,
      [n.phoneNumberId, n.wabaId, n.displayPhoneNumber, register],
    );
    if (inserted.length > 0) {
      const outcome = register ? 'auto_registered' : 'unregistered';
      ingestMetrics.unknownNumbers.inc({ outcome });
      // registered by itself (WHATSAPP_AUTO_REGISTER_NUMBERS) is working as configured: info; kept unregistered needs
      // someone to act: warn
      const entry = { msg: 'webhook for an unknown business phone_number_id', phoneNumberId: n.phoneNumberId, wabaId: n.wabaId, outcome };
      if (register) this.log.log(entry);
      else this.log.warn(entry);
    } else {
      await em.query(
        `UPDATE ingest.business_number SET waba_id = COALESCE(waba_id, $2),
           display_phone_number = COALESCE(display_phone_number, $3), updated_at = now()
         WHERE phone_number_id = $1 AND (waba_id IS NULL OR display_phone_number IS NULL)`,
        [n.phoneNumberId, n.wabaId, n.displayPhoneNumber],
      );
    }
  }

  /** After the transaction that ensured `n` committed: skip the look-up next time when nothing is left to fill in. */
  remember(n: NumberRef): void {
    if (n.wabaId && n.displayPhoneNumber) this.complete.add(n.phoneNumberId);
  }
}
