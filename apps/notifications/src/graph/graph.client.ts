import { Inject, Injectable } from '@nestjs/common';
import { NOTIFICATIONS_CONFIG, type NotificationsConfig } from '../config';
import { NumberCredentialsCache } from './number-credentials';

export type GraphResult =
  | { kind: 'ok'; status: number; body: Record<string, unknown> }
  | { kind: 'error'; status: number; code: number | null; title: string; details: string | null }
  /** The request never reached Meta (connection refused, DNS): safe to retry. */
  | { kind: 'unreachable'; reason: string }
  /** Sent, but no answer in time (or the connection broke mid-way): Meta may have accepted it. */
  | { kind: 'timeout'; reason: string };

const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** Calls the Graph API with a timeout on every call. The token goes only into the Authorization header, never into logs or errors. */
@Injectable()
export class GraphClient {
  constructor(
    @Inject(NOTIFICATIONS_CONFIG) private readonly cfg: NotificationsConfig,
    private readonly credentials: NumberCredentialsCache,
  ) {}

  url(path: string, version = this.cfg.GRAPH_API_VERSION): string {
    return `${this.cfg.GRAPH_API_BASE_URL.replace(/\/$/, '')}/${version}/${path}`;
  }

  /** Sends from the number with its own credentials (the gateway's registry) or the configured default app's. */
  async postMessage(phoneNumberId: string, body: Record<string, unknown>, timeoutMs = this.cfg.GRAPH_API_TIMEOUT_MS): Promise<GraphResult> {
    const c = await this.credentials.of(phoneNumberId);
    if (!c.active) return { kind: 'error', status: 403, code: null, title: 'The business number (or its WhatsApp account or Meta app) is disabled in Switchboard.', details: null };
    return this.call('POST', this.url(`${encodeURIComponent(phoneNumberId)}/messages`, c.graphApiVersion), c.accessToken, body, timeoutMs);
  }

  /**
   * `POST /{phone-number-id}/media` (REFERENCE §3): multipart `file`, `type` (MIME), `messaging_product=whatsapp`
   * → `{id}`, with the number's own credentials. An upload creates no message, so it is safe to repeat.
   */
  async uploadMedia(phoneNumberId: string, file: { data: Blob; mimeType: string; filename: string | null }, timeoutMs = Math.max(this.cfg.GRAPH_API_TIMEOUT_MS, 30_000)): Promise<GraphResult> {
    const c = await this.credentials.of(phoneNumberId);
    if (!c.active) return { kind: 'error', status: 403, code: null, title: 'The business number (or its WhatsApp account or Meta app) is disabled in Switchboard.', details: null };
    const form = new FormData();
    form.set('messaging_product', 'whatsapp');
    form.set('type', file.mimeType);
    form.set('file', file.data, file.filename ?? 'file'); // the caller's Blob as is (no copy of the file here)
    return this.call('POST', this.url(`${encodeURIComponent(phoneNumberId)}/media`, c.graphApiVersion), c.accessToken, form, timeoutMs);
  }

  get(urlOrPath: string, timeoutMs = this.cfg.GRAPH_API_TIMEOUT_MS): Promise<GraphResult> {
    const url = /^https?:\/\//.test(urlOrPath) ? urlOrPath : this.url(urlOrPath);
    return this.call('GET', url, this.credentials.defaults().accessToken, undefined, timeoutMs);
  }

  private async call(method: string, url: string, token: string, body: unknown, timeoutMs: number): Promise<GraphResult> {
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        // a FormData body sets its own multipart content type (with the boundary)
        headers: { authorization: `Bearer ${token}`, ...(body && !(body instanceof FormData) ? { 'content-type': 'application/json' } : {}) },
        body: body instanceof FormData ? body : body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const code = e.cause?.code ?? (e as { code?: string }).code;
      if (code && NOT_SENT.has(code)) return { kind: 'unreachable', reason: code };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') return { kind: 'timeout', reason: `no answer within ${timeoutMs} ms` };
      return { kind: 'timeout', reason: code ?? e.message };
    }
    let parsed: Record<string, unknown> = {};
    try {
      parsed = (await res.json()) as Record<string, unknown>;
    } catch {
      parsed = {};
    }
    if (res.ok) return { kind: 'ok', status: res.status, body: parsed };
    const error = (parsed.error ?? {}) as { code?: unknown; message?: unknown; error_data?: { details?: unknown } };
    return {
      kind: 'error',
      status: res.status,
      code: typeof error.code === 'number' ? error.code : null,
      title: typeof error.message === 'string' ? error.message : `HTTP ${res.status}`,
      details: typeof error.error_data?.details === 'string' ? error.error_data.details : null,
    };
  }
}
