import { ForbiddenException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ListStoredTemplatesV1, SyncTemplatesV1, type TemplateStatus } from '@app/contracts';
import { Bus } from '@app/messaging';
import type { Principal } from '../auth/principal';
import { AccountsRepository, type NumberRow } from '../whatsapp-accounts/accounts.repository';

/**
 * The templates admin screen: stored templates (any status) per business number, read from notifications, which
 * syncs them from the Graph API. Admins see every number; managers the numbers whose team is one of theirs.
 * Templates are created in WhatsApp Manager, not here (REFERENCE §2.2 has no create call).
 */
@Injectable()
export class TemplatesService {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly accounts: AccountsRepository,
  ) {}

  async list(p: Principal, q: { phoneNumberId?: string; status?: TemplateStatus }) {
    if (p.role !== 'admin' && p.role !== 'manager') throw new ForbiddenException('templates are for managers and admins');
    const visible = (await this.accounts.listNumbers(this.ds.manager, {})).filter((n) => this.sees(p, n));
    let numbers = visible;
    if (q.phoneNumberId) {
      numbers = visible.filter((n) => n.phoneNumberId === q.phoneNumberId);
      if (!numbers.length)
        throw new NotFoundException(
          p.role === 'admin'
            ? `business number ${q.phoneNumberId} is not registered (POST /api/v1/numbers); without phoneNumberId every stored template is listed`
            : `business number ${q.phoneNumberId} is not one of your teams' numbers`,
        );
    }
    // an admin without a number filter sees every stored template (also of WABAs not registered as numbers yet)
    const wabaIds = p.role === 'admin' && !q.phoneNumberId ? undefined : [...new Set(numbers.map((n) => n.wabaId))];
    const res = await this.bus.request(ListStoredTemplatesV1, { wabaIds, status: q.status });
    return {
      items: res.items,
      numbers: numbers.map((n) => ({ phoneNumberId: n.phoneNumberId, wabaId: n.wabaId, displayNumber: n.displayNumber, defaultTeamId: n.defaultTeamId })),
      syncedWabaIds: res.syncedWabaIds,
      lastSyncedAt: res.lastSyncedAt,
    };
  }

  /** Sync now (admins): notifications fetches every configured WABA's templates; 503 when the Graph API is down. */
  sync() {
    return this.bus.request(SyncTemplatesV1, {});
  }

  private sees(p: Principal, n: NumberRow): boolean {
    return p.role === 'admin' || (n.defaultTeamId !== null && p.teamIds.includes(n.defaultTeamId));
  }
}
