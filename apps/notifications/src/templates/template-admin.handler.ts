import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ListStoredTemplatesV1, SyncTemplatesV1, type RequestOf, type ResponseOf, type StoredTemplate } from '@app/contracts';
import { Bus, BusError } from '@app/messaging';
import { bodyText } from './template-list.handler';
import { TemplateRepository, type StoredTemplateRow } from './template.repository';
import { TemplateSyncService } from './template-sync.service';

/**
 * The admin's templates screen: every stored template (any status) of some WABAs, and "Sync now" — a fresh sync
 * from the Graph API answering the count and the WABAs that failed, or UNAVAILABLE when none could be synced.
 */
@Injectable()
export class TemplateAdminHandler implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly templates: TemplateRepository,
    private readonly sync: TemplateSyncService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.respond(ListStoredTemplatesV1, (r) => this.list(r));
    await this.bus.respond(SyncTemplatesV1, () => this.syncNow());
  }

  async list(r: RequestOf<typeof ListStoredTemplatesV1>): Promise<ResponseOf<typeof ListStoredTemplatesV1>> {
    const wabaIds = r.wabaIds ?? null;
    const [rows, last] = await Promise.all([
      this.templates.listStored(this.ds.manager, wabaIds, r.status ?? null),
      this.templates.lastSyncedAt(this.ds.manager, wabaIds),
    ]);
    return { items: rows.map(toStored), syncedWabaIds: this.sync.wabaIds(), lastSyncedAt: last ? new Date(last).toISOString() : null };
  }

  async syncNow(): Promise<ResponseOf<typeof SyncTemplatesV1>> {
    const report = await this.sync.syncNow();
    if (report.failures.length && report.failures.length >= this.sync.wabaIds().length) {
      const what = report.failures.map((f) => `WABA ${f.wabaId}: ${f.reason}`).join('; ');
      throw new BusError('UNAVAILABLE', `templates could not be synced from the WhatsApp Graph API (${what}); the stored templates are unchanged, try again later`, {
        failures: report.failures,
        synced: report.stored,
      });
    }
    return { synced: report.stored, wabaIds: this.sync.wabaIds(), failures: report.failures, syncedAt: new Date().toISOString() };
  }
}

function toStored(r: StoredTemplateRow): StoredTemplate {
  return {
    wabaId: r.waba_id,
    templateId: r.template_id,
    name: r.name,
    language: r.language,
    status: r.status,
    category: r.category,
    components: r.components ?? null,
    body: bodyText(r.components),
    bodyParameterCount: r.body_param_count,
    syncedAt: r.synced_at ? new Date(r.synced_at).toISOString() : null,
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}
