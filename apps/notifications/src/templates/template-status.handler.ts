import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { WhatsAppAccountEventV1, type PayloadOf } from '@app/contracts';
import { Bus } from '@app/messaging';
import { TemplateRepository } from './template.repository';
import { TemplateSyncService } from './template-sync.service';

/** Webhook events that mean "usable again". */
const BACK_TO_APPROVED = new Set(['APPROVED', 'REINSTATED', 'UNPAUSED', 'UNARCHIVED']);

/** Applies `message_template_status_update` webhooks to the stored templates (REFERENCE §2.2, §5). */
@Injectable()
export class TemplateStatusHandler implements OnApplicationBootstrap {
  private readonly log = new Logger('TemplateStatus');

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly templates: TemplateRepository,
    private readonly sync: TemplateSyncService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume(WhatsAppAccountEventV1, { durable: 'notifications-template-status' }, (evt) => this.handle(evt));
  }

  async handle(evt: PayloadOf<typeof WhatsAppAccountEventV1>): Promise<void> {
    if (evt.field !== 'message_template_status_update') return;
    const v = (evt.value ?? {}) as Record<string, unknown>;
    const event = typeof v.event === 'string' ? v.event.toUpperCase() : null;
    if (!event) return;
    const status = BACK_TO_APPROVED.has(event) ? 'APPROVED' : event;
    const changed = await this.ds.transaction((em) =>
      this.templates.applyStatus(em, {
        wabaId: evt.wabaId,
        templateId: v.message_template_id !== undefined && v.message_template_id !== null ? String(v.message_template_id) : null,
        name: typeof v.message_template_name === 'string' ? v.message_template_name : null,
        language: typeof v.message_template_language === 'string' ? v.message_template_language : null,
        status,
      }),
    );
    if (changed === 0) {
      // a template we have not synced yet: fetch the list (it carries the status and components)
      this.log.log(`status update for an unknown template; syncing templates`);
      await this.sync.syncAll();
    }
  }
}
