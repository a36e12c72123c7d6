import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { NOTIFICATIONS_CONFIG, type NotificationsConfig } from '../config';
import { GraphClient } from '../graph/graph.client';
import { TemplateRepository } from './template.repository';

interface GraphTemplate {
  id?: string;
  name?: string;
  language?: string;
  status?: string;
  category?: string;
  components?: unknown;
}

/** Copies each configured WABA's templates (name, language, status, components) from the Graph API. */
@Injectable()
export class TemplateSyncService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('TemplateSync');
  private timer?: NodeJS.Timeout;
  private running?: Promise<SyncReport>;

  constructor(
    @Inject(NOTIFICATIONS_CONFIG) private readonly cfg: NotificationsConfig,
    private readonly ds: DataSource,
    private readonly graph: GraphClient,
    private readonly templates: TemplateRepository,
  ) {}

  onApplicationBootstrap(): void {
    void this.syncAll().catch(() => undefined);
    this.timer = setInterval(() => void this.syncAll().catch(() => undefined), this.cfg.TEMPLATE_SYNC_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One sync at a time; a caller arriving mid-sync waits for that one. Returns templates stored. */
  async syncAll(timeoutMs = this.cfg.GRAPH_API_TIMEOUT_MS): Promise<number> {
    return (await this.syncReport(timeoutMs)).stored;
  }

  /** The configured WABAs (WHATSAPP_WABA_IDS) whose templates are synced. */
  wabaIds(): string[] {
    return [...this.cfg.WHATSAPP_WABA_IDS];
  }

  /**
   * The admin's "Sync now": a sync that starts after this call (a sync already running may have read the Graph API
   * before the change the admin is waiting for, so it is awaited first), saying which WABAs failed and why.
   */
  async syncNow(timeoutMs = this.cfg.GRAPH_API_TIMEOUT_MS): Promise<SyncReport> {
    await this.running?.catch(() => undefined);
    return this.syncReport(timeoutMs);
  }

  /** Like syncAll, also saying which WABAs could not be synced and why. */
  syncReport(timeoutMs = this.cfg.GRAPH_API_TIMEOUT_MS): Promise<SyncReport> {
    this.running ??= this.run(timeoutMs).finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(timeoutMs: number): Promise<SyncReport> {
    let stored = 0;
    const failures: SyncReport['failures'] = [];
    for (const waba of this.cfg.WHATSAPP_WABA_IDS) {
      let url: string | null = `${encodeURIComponent(waba)}/message_templates?limit=100`;
      const started = await this.templates.now(this.ds.manager);
      let complete = false;
      for (let page = 0; url && page < 50; page++) {
        const res = await this.graph.get(url, timeoutMs);
        if (res.kind !== 'ok') {
          const reason = res.kind === 'error' ? `Meta answered ${res.status}${res.code !== null ? ` (code ${res.code})` : ''}: ${res.title}` : `${res.kind}: ${res.reason}`;
          this.log.warn(`template sync for WABA ${waba} failed: ${reason}`);
          failures.push({ wabaId: waba, reason });
          break;
        }
        const data = Array.isArray(res.body.data) ? (res.body.data as GraphTemplate[]) : [];
        await this.ds.transaction(async (em) => {
          for (const t of data) {
            if (!t.name || !t.language || !t.status) continue;
            await this.templates.upsertSynced(em, {
              wabaId: waba,
              name: t.name,
              language: t.language,
              id: t.id ?? null,
              status: t.status.toUpperCase(),
              category: t.category ?? null,
              components: t.components ?? null,
            });
            stored++;
          }
        });
        const next = (res.body.paging as { next?: unknown } | undefined)?.next;
        url = typeof next === 'string' ? next : null;
        complete = url === null;
      }
      // every page read: templates Meta no longer lists (deleted there) are removed here too
      if (complete) await this.templates.removeNotSyncedSince(this.ds.manager, waba, started);
    }
    return { stored, failures };
  }
}

export interface SyncReport {
  stored: number;
  failures: Array<{ wabaId: string; reason: string }>;
}
