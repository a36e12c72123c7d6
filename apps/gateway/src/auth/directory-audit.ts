import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { DirectoryChangedV1, type PayloadOf } from '@app/contracts';
import { OutboxWriter } from '@app/persistence';
import type { Principal } from './principal';

type Change = Pick<PayloadOf<typeof DirectoryChangedV1>, 'action' | 'entityType' | 'entityId' | 'before' | 'after'>;

/** Records an administration change for the audit trail, in the caller's transaction (outbox → routing). */
@Injectable()
export class DirectoryAudit {
  constructor(private readonly outbox: OutboxWriter) {}

  async record(em: EntityManager, by: Principal | null, c: Change): Promise<void> {
    await this.outbox.add(em, DirectoryChangedV1, {
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      actor: by ? { type: by.kind, id: by.id, name: by.name } : { type: 'system', id: null, name: 'gateway' },
      ...c,
    });
  }
}
