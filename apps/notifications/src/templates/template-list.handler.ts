import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ListTemplatesV1, type TemplateSummary } from '@app/contracts';
import { Bus } from '@app/messaging';
import { TemplateRepository } from './template.repository';
import { TemplateSyncService } from './template-sync.service';

/** Answers notifications.list-templates.v1: the APPROVED templates, as synced from Meta. */
@Injectable()
export class TemplateListHandler implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly templates: TemplateRepository,
    private readonly sync: TemplateSyncService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.respond(ListTemplatesV1, () => this.list());
  }

  async list(): Promise<{ items: TemplateSummary[] }> {
    let rows = await this.templates.listApproved(this.ds.manager);
    // nothing synced yet (fresh start): one bounded sync, as a template send does
    if (rows.length === 0) {
      await this.sync.syncAll(1_000).catch(() => undefined);
      rows = await this.templates.listApproved(this.ds.manager);
    }
    return {
      items: rows.map((r) => ({ name: r.name, language: r.language, category: r.category, body: bodyText(r.components), bodyParameterCount: r.body_param_count })),
    };
  }
}

export function bodyText(components: unknown): string | null {
  if (!Array.isArray(components)) return null;
  const body = components.find((c) => typeof c?.type === 'string' && c.type.toUpperCase() === 'BODY') as { text?: unknown } | undefined;
  return typeof body?.text === 'string' ? body.text : null;
}
