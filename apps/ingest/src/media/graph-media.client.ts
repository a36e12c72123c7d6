import { createHash } from 'node:crypto';

export class MediaFetchError extends Error {
  constructor(
    message: string,
    /** false = retrying cannot help (forbidden host, bad id, checksum never matches…). */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export interface DownloadedMedia {
  data: Buffer;
  mimeType: string | null;
  sha256Hex: string;
  sha256Base64: string;
  size: number;
}

export interface GraphMediaOptions {
  baseUrl: string;
  version: string;
  token: string;
  /** Hosts (host or host:port) media may be downloaded from besides the Graph host. */
  mediaHosts: string[];
  maxBytes: number;
  timeoutMs?: number;
}

/**
 * `GET {base}/{version}/{media-id}` → `{url, mime_type, sha256, file_size}`, then the bytes from `url`, both with
 * the bearer token. Only the configured Graph host and media hosts are ever contacted: URLs in webhook payloads are
 * never fetched, and a `url` (or redirect) to any other host is refused, so payloads cannot steer requests (SSRF).
 */
export class GraphMediaClient {
  private readonly allowed: Set<string>;
  private readonly graphHost: string;

  constructor(private readonly o: GraphMediaOptions) {
    const base = new URL(o.baseUrl);
    this.graphHost = base.host.toLowerCase();
    this.allowed = new Set([this.graphHost, ...o.mediaHosts.map((h) => h.toLowerCase())]);
  }

  isAllowed(url: string): boolean {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return false;
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return false;
    if (u.username || u.password) return false;
    return this.allowed.has(u.host.toLowerCase());
  }

  /** `as`: the number's own token and Graph version (the gateway's registry) instead of the configured ones. */
  async download(mediaId: string, as?: { token: string; version: string }): Promise<DownloadedMedia> {
    if (!/^[A-Za-z0-9_.-]{1,128}$/.test(mediaId)) throw new MediaFetchError('media id has unexpected characters', false);
    const token = as?.token ?? this.o.token;
    const lookupUrl = `${this.o.baseUrl.replace(/\/+$/, '')}/${as?.version ?? this.o.version}/${encodeURIComponent(mediaId)}`;
    const res = await this.get(lookupUrl, token);
    if (!res.ok) throw new MediaFetchError(`media lookup answered ${res.status}`, res.status >= 500 || res.status === 429 || res.status === 401 || res.status === 404);
    let meta: { url?: unknown; mime_type?: unknown; file_size?: unknown };
    try {
      meta = (await res.json()) as typeof meta;
    } catch {
      throw new MediaFetchError('media lookup answered non-JSON', true);
    }
    if (typeof meta.url !== 'string') throw new MediaFetchError('media lookup has no url', true);
    if (!this.isAllowed(meta.url)) throw new MediaFetchError('media url host is not the Graph API host or a configured media host', false);
    if (typeof meta.file_size === 'number' && meta.file_size > this.o.maxBytes) throw new MediaFetchError('media larger than MEDIA_MAX_BYTES', false);

    const file = await this.get(meta.url, token);
    if (!file.ok) throw new MediaFetchError(`media download answered ${file.status}`, true);
    const data = await this.readCapped(file);
    const digest = createHash('sha256').update(data).digest();
    return {
      data,
      mimeType: (typeof meta.mime_type === 'string' ? meta.mime_type : null) ?? file.headers.get('content-type'),
      sha256Hex: digest.toString('hex'),
      sha256Base64: digest.toString('base64'),
      size: data.length,
    };
  }

  /** GET with the token; redirects are followed by hand, and only to allowed hosts. */
  private async get(url: string, token: string, hops = 0): Promise<Response> {
    if (!this.isAllowed(url)) throw new MediaFetchError('refusing to contact a host that is not configured', false);
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { Authorization: `Bearer ${token}` },
        redirect: 'manual',
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 30_000),
      });
    } catch (err) {
      throw new MediaFetchError(`network error: ${(err as Error).message}`, true);
    }
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      if (hops >= 3) throw new MediaFetchError('too many redirects', false);
      await res.body?.cancel();
      return this.get(new URL(res.headers.get('location')!, url).toString(), token, hops + 1);
    }
    return res;
  }

  private async readCapped(res: Response): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    if (!res.body) return Buffer.alloc(0);
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.length;
      if (size > this.o.maxBytes) throw new MediaFetchError('media larger than MEDIA_MAX_BYTES', false);
      chunks.push(Buffer.from(chunk));
    }
    return Buffer.concat(chunks);
  }
}

/** The webhook's sha256 may be base64 (Meta's webhooks) or hex (media look-up); either must match. */
export function sha256Matches(expected: string | null, got: { sha256Hex: string; sha256Base64: string }): boolean {
  if (!expected) return true;
  return expected === got.sha256Base64 || expected.toLowerCase() === got.sha256Hex;
}
