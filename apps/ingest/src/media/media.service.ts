import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { Bus, NumberCredentialsLookup } from '@app/messaging';
import { INGEST_CONFIG, type IngestConfig } from '../config';
import { rows } from '../db.util';
import { ingestMetrics } from '../ingest.metrics';
import type { MediaRef } from '../normalize/normalized.types';
import { GraphMediaClient, MediaFetchError, sha256Matches } from './graph-media.client';
import { MediaStore } from './media-store';

interface MediaJob {
  message_id: string;
  media_id: string;
  expected_sha256: string | null;
  attempts: number;
  phone_number_id: string | null;
}

/**
 * Downloads inbound media to the MediaStore. A `media` row is written with the message (state `pending`, or
 * `disabled` when no access token is configured); this sweeper claims due rows with SKIP LOCKED (so replicas
 * share the work), downloads, and records `stored`, or schedules a retry with exponential backoff until
 * MEDIA_MAX_ATTEMPTS, then `failed`. Errors that retrying cannot fix (forbidden host) fail at once.
 */
@Injectable()
export class MediaService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('Media');
  private readonly client: GraphMediaClient;
  private readonly credentials: NumberCredentialsLookup;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    @Inject(INGEST_CONFIG) private readonly cfg: IngestConfig,
    private readonly ds: DataSource,
    private readonly store: MediaStore,
    bus: Bus,
  ) {
    // a registered number's own token and Graph version (gateway registry), else the configured ones
    this.credentials = new NumberCredentialsLookup(bus, () => ({ accessToken: cfg.WHATSAPP_ACCESS_TOKEN, graphApiVersion: cfg.GRAPH_API_VERSION }));
    this.client = new GraphMediaClient({
      baseUrl: cfg.GRAPH_API_BASE_URL,
      version: cfg.GRAPH_API_VERSION,
      token: cfg.WHATSAPP_ACCESS_TOKEN,
      mediaHosts: cfg.GRAPH_MEDIA_HOSTS,
      maxBytes: cfg.MEDIA_MAX_BYTES,
    });
  }

  get enabled(): boolean {
    return this.cfg.WHATSAPP_ACCESS_TOKEN.length > 0;
  }

  /** In the message's transaction. */
  async record(em: EntityManager, messageId: string, ref: MediaRef): Promise<void> {
    await em.query(
      `INSERT INTO ingest.media (message_id, media_id, expected_sha256, mime_type, state, last_error)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (message_id) DO NOTHING`,
      [messageId, ref.mediaId, ref.sha256, ref.mimeType, this.enabled ? 'pending' : 'disabled',
        this.enabled ? null : 'media download disabled: WHATSAPP_ACCESS_TOKEN is not set'],
    );
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) {
      this.log.warn('WHATSAPP_ACCESS_TOKEN is not set: inbound media is recorded but not downloaded (state "disabled")');
      return;
    }
    this.timer = setInterval(() => this.kick(), this.cfg.MEDIA_SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Sweep now (or right after the current sweep). */
  kick(): void {
    if (this.stopped || !this.enabled) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      await new Promise((r) => setImmediate(r));
      do {
        this.again = false;
        try {
          while (!this.stopped && (await this.sweep()) > 0);
        } catch (err) {
          this.log.warn(`media sweep failed, will retry: ${(err as Error).message}`);
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
  }

  /** Claims up to 4 due jobs (leasing them for a minute), runs them, returns how many it claimed. */
  async sweep(): Promise<number> {
    const jobs = await rows<MediaJob>(
      this.ds.manager,
      `UPDATE ingest.media SET attempts = attempts + 1, next_attempt_at = now() + interval '60 seconds', updated_at = now()
       WHERE message_id IN (SELECT message_id FROM ingest.media WHERE state = 'pending' AND next_attempt_at <= now()
                            ORDER BY next_attempt_at LIMIT 4 FOR UPDATE SKIP LOCKED)
       RETURNING message_id, media_id, expected_sha256, attempts,
         (SELECT m.phone_number_id FROM ingest.message m WHERE m.id = media.message_id) AS phone_number_id`,
    );
    await Promise.all(jobs.map((j) => this.run(j)));
    return jobs.length;
  }

  private async run(job: MediaJob): Promise<void> {
    try {
      const c = job.phone_number_id ? await this.credentials.of(job.phone_number_id) : null;
      const got = await this.client.download(job.media_id, c ? { token: c.accessToken, version: c.graphApiVersion } : undefined);
      if (!sha256Matches(job.expected_sha256, got)) throw new MediaFetchError('sha256 of the download does not match the webhook', true);
      const key = await this.store.put(`${job.message_id.slice(0, 2)}/${job.message_id}`, got.data, { mimeType: got.mimeType });
      await this.ds.query(
        `UPDATE ingest.media SET state = 'stored', storage_key = $2, mime_type = COALESCE($3, mime_type), size = $4,
           sha256 = $5, last_error = NULL, updated_at = now() WHERE message_id = $1`,
        [job.message_id, key, got.mimeType, got.size, got.sha256Hex],
      );
      ingestMetrics.media.inc({ outcome: 'stored' });
    } catch (err) {
      const retryable = err instanceof MediaFetchError ? err.retryable : true;
      const final = !retryable || job.attempts >= this.cfg.MEDIA_MAX_ATTEMPTS;
      const delay = this.cfg.MEDIA_RETRY_BASE_MS * 2 ** (job.attempts - 1);
      await this.ds.query(
        `UPDATE ingest.media SET state = $2, last_error = $3, next_attempt_at = now() + ($4::text || ' milliseconds')::interval,
           updated_at = now() WHERE message_id = $1`,
        [job.message_id, final ? 'failed' : 'pending', (err as Error).message.slice(0, 300), String(delay)],
      );
      ingestMetrics.media.inc({ outcome: final ? 'failed' : 'retry' });
      this.log.warn({ msg: final ? 'media download failed' : 'media download failed, will retry', messageId: job.message_id, attempt: job.attempts, reason: (err as Error).message });
      if (!final) setTimeout(() => this.kick(), delay + 5).unref();
    }
  }
}
