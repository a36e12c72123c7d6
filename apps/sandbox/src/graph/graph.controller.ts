import { Body, Controller, Delete, Get, Inject, Param, Post, Query, Req, Res, UploadedFile, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import type { Request, Response } from 'express';
import { timingSafeEqual, createHash } from 'node:crypto';
import { SANDBOX_CONFIG, type SandboxConfig } from '../config';
import { displayNumberOf, WebhookSender } from '../webhooks/webhook-sender';
import { GraphError, GraphErrors } from './graph-errors';
import { validateMessageBody } from './message-validator';
import { SandboxState } from './sandbox-state';

const VERSION = /^v\d{1,3}\.\d$/;
const MEDIA_LIMITS: Record<string, number> = { audio: 16 << 20, document: 100 << 20, image: 5 << 20, sticker: 500 << 10, video: 16 << 20 };
const MEDIA_MIME: Record<string, string[]> = {
  image: ['image/jpeg', 'image/png'],
  audio: ['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg'],
  video: ['video/mp4', 'video/3gpp'],
  sticker: ['image/webp'],
  document: ['text/plain', 'application/pdf', 'application/vnd.ms-excel', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'application/msword', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'application/vnd.ms-powerpoint', 'application/vnd.openxmlformats-officedocument.presentationml.presentation'],
};
const kindOfMime = (mime: string) => Object.keys(MEDIA_MIME).find((k) => MEDIA_MIME[k].includes(mime.split(';')[0].trim()));
const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * The fake Graph API: `/{version}/{phone-number-id}/messages`, `/media`, `/{media-id}`, `/{waba-id}/message_templates`
 * (REFERENCE §2, §3). Every call needs `Authorization: Bearer <SANDBOX_ACCESS_TOKEN>`.
 */
@Controller()
export class GraphController {
  private readonly token: Buffer;

  constructor(
    private readonly state: SandboxState,
    private readonly webhooks: WebhookSender,
    @Inject(SANDBOX_CONFIG) private readonly cfg: SandboxConfig,
  ) {
    this.token = digest(cfg.SANDBOX_ACCESS_TOKEN);
  }

  private authorised(req: Request): boolean {
    const auth = req.header('authorization') ?? '';
    return auth.startsWith('Bearer ') && timingSafeEqual(digest(auth.slice(7)), this.token);
  }

  private fail(res: Response, err: GraphError): void {
    res.status(err.httpStatus).json(err.body);
  }

  @Post(':version/:phoneNumberId/messages')
  async send(@Param('version') version: string, @Param('phoneNumberId') phoneNumberId: string, @Body() body: unknown, @Req() req: Request, @Res() res: Response) {
    if (!this.authorised(req)) return this.fail(res, GraphErrors.invalidToken());
    if (!VERSION.test(version) || !this.state.knownNumber(phoneNumberId)) return this.fail(res, GraphErrors.unknownObject(phoneNumberId));
    const v = validateMessageBody(body, this.state.findTemplate);
    if (v instanceof GraphError) return this.fail(res, this.state.reject(v));
    if (v.kind === 'mark-read') {
      this.state.recordRead(phoneNumberId, v.messageId, v.typing);
      return res.status(200).json({ success: true });
    }

    const fault = this.state.takeFault(v.to);
    if (fault === '5xx') return this.fail(res, this.state.inject(GraphErrors.serverError()));
    if (fault === 130429) return this.fail(res, this.state.inject(GraphErrors.rateLimit()));
    if (fault === 131056) return this.fail(res, this.state.inject(GraphErrors.pairRateLimit()));
    if (typeof fault === 'number') return this.fail(res, this.state.inject(faultError(fault)));

    const limited = this.state.admit(phoneNumberId, v.to);
    if (limited) return this.fail(res, limited);
    const sent = this.state.record({ phoneNumberId, to: v.to, type: v.type, body: body as Record<string, unknown> });
    this.webhooks.scheduleStatuses(sent);
    const answer = {
      messaging_product: 'whatsapp',
      contacts: [{ input: String((body as { to: unknown }).to), wa_id: v.to }],
      messages: [{ id: sent.waMessageId, ...(v.isTemplate ? { message_status: 'accepted' } : {}) }],
    };
    // a "timeout" fault accepts the message and then answers too late: the dangerous case for double sends
    if (fault === 'timeout') {
      const t = setTimeout(() => !res.writableEnded && res.status(200).json(answer), this.cfg.SANDBOX_TIMEOUT_FAULT_MS);
      res.on('close', () => clearTimeout(t));
      return;
    }
    res.status(200).json(answer);
  }

  @Post(':version/:phoneNumberId/media')
  @UseInterceptors(FileInterceptor('file', { limits: { fileSize: 100 << 20 } }))
  upload(
    @Param('version') version: string,
    @Param('phoneNumberId') phoneNumberId: string,
    @UploadedFile() file: { buffer: Buffer; size: number; mimetype: string; originalname?: string } | undefined,
    @Body() body: Record<string, string>,
    @Req() req: Request,
    @Res() res: Response,
  ) {
    if (!this.authorised(req)) return this.fail(res, GraphErrors.invalidToken());
    if (!VERSION.test(version) || !this.state.knownNumber(phoneNumberId)) return this.fail(res, GraphErrors.unknownObject(phoneNumberId));
    if (body?.messaging_product !== 'whatsapp') return this.fail(res, GraphErrors.requiredParameter('messaging_product'));
    if (!file) return this.fail(res, GraphErrors.requiredParameter('file'));
    const mime = (body.type || file.mimetype || '').split(';')[0].trim();
    const kind = kindOfMime(mime);
    if (!kind) return this.fail(res, GraphErrors.invalidParameter(`Param file must be a file with one of the following types: ${Object.values(MEDIA_MIME).flat().join(', ')}. Received file of type '${mime}'.`));
    if (file.size > MEDIA_LIMITS[kind]) return this.fail(res, GraphErrors.invalidParameter(`Param file must be at most ${MEDIA_LIMITS[kind]} bytes for ${kind}.`));
    const m = this.state.storeMedia(phoneNumberId, file.buffer, mime, file.originalname ?? null);
    res.status(200).json({ id: m.id });
  }

  @Get(':version/:wabaId/message_templates')
  templates(@Param('version') version: string, @Param('wabaId') wabaId: string, @Query() q: Record<string, string>, @Req() req: Request, @Res() res: Response) {
    if (!this.authorised(req)) return this.fail(res, GraphErrors.invalidToken());
    if (!VERSION.test(version) || wabaId !== this.cfg.SANDBOX_WABA_ID) return this.fail(res, GraphErrors.unknownObject(wabaId));
    const limit = Math.min(Math.max(Number(q.limit) || 25, 1), 100);
    const start = q.after ? Number(Buffer.from(q.after, 'base64url').toString()) || 0 : 0;
    const page = this.state.templates.slice(start, start + limit);
    const next = start + limit < this.state.templates.length ? Buffer.from(String(start + limit)).toString('base64url') : null;
    const base = `${req.protocol}://${req.get('host')}/${version}/${wabaId}/message_templates`;
    res.status(200).json({
      data: page.map((t) => ({ name: t.name, language: t.language, status: t.status, category: t.category, id: t.id, components: t.components })),
      paging: {
        cursors: { before: Buffer.from(String(start)).toString('base64url'), after: Buffer.from(String(start + page.length)).toString('base64url') },
        ...(next ? { next: `${base}?limit=${limit}&after=${next}` } : {}),
      },
    });
  }

  /** `GET /{version}/{media-id}` (REFERENCE §3), or `GET /{version}/{phone-number-id}` (the number's profile). */
  @Get(':version/:mediaId')
  media(@Param('version') version: string, @Param('mediaId') mediaId: string, @Query('phone_number_id') owner: string | undefined, @Req() req: Request, @Res() res: Response) {
    if (!this.authorised(req)) return this.fail(res, GraphErrors.invalidToken());
    const m = this.state.media.get(mediaId);
    if (!m && VERSION.test(version) && this.isPhoneNumberId(mediaId)) return res.status(200).json(this.phoneNumber(mediaId));
    if (!VERSION.test(version) || !m || (owner && owner !== m.phoneNumberId)) return this.fail(res, GraphErrors.mediaNotFound(mediaId));
    res.status(200).json({
      url: `${req.protocol}://${req.get('host')}/sandbox/media/${m.id}/download`,
      mime_type: m.mimeType,
      sha256: m.sha256,
      file_size: m.data.length,
      id: m.id,
      messaging_product: 'whatsapp',
    });
  }

  /**
   * A business number as the Graph API describes it. REFERENCE §4.3 names `whatsapp_business_manager_messaging_limit`
   * (the deprecated `messaging_limit_tier` is still sent); the name and quality rating are fixed sandbox values.
   */
  private isPhoneNumberId(id: string): boolean {
    // a listed number; with no list, a numeric id as long as Meta's phone number ids (sandbox media ids are 19 digits)
    if (this.cfg.SANDBOX_PHONE_NUMBER_IDS.length) return this.cfg.SANDBOX_PHONE_NUMBER_IDS.includes(id);
    return /^\d{10,16}$/.test(id);
  }

  private phoneNumber(id: string) {
    return {
      id,
      display_phone_number: displayNumberOf(id),
      verified_name: this.cfg.SANDBOX_VERIFIED_NAME,
      quality_rating: 'GREEN',
      messaging_limit_tier: 'TIER_250',
      whatsapp_business_manager_messaging_limit: 'TIER_250',
    };
  }

  @Delete(':version/:mediaId')
  deleteMedia(@Param('version') version: string, @Param('mediaId') mediaId: string, @Req() req: Request, @Res() res: Response) {
    if (!this.authorised(req)) return this.fail(res, GraphErrors.invalidToken());
    if (!VERSION.test(version) || !this.state.media.delete(mediaId)) return this.fail(res, GraphErrors.mediaNotFound(mediaId));
    res.status(200).json({ success: true });
  }

  /** The media URL: like Meta's, it only answers with the Bearer token (REFERENCE §3). */
  @Get('sandbox/media/:mediaId/download')
  download(@Param('mediaId') mediaId: string, @Req() req: Request, @Res() res: Response) {
    if (!this.authorised(req)) return this.fail(res, GraphErrors.invalidToken());
    const m = this.state.media.get(mediaId);
    if (!m) return res.status(404).end();
    res.status(200).type(m.mimeType).send(m.data);
  }
}

/** An injected Graph error by code (permanent ones included, e.g. 131026, 131047, 368). */
function faultError(code: number): GraphError {
  const err = GraphErrors.invalidParameter('injected by the sandbox');
  err.body.error.code = code;
  err.body.error.message = `(#${code}) Injected sandbox error`;
  if (code === 131000 || code === 131016) return new GraphError(500, err.body);
  return err;
}
