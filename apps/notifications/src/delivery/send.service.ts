import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { OutboundQueuedV1, SendMessageRequest, describeIssues, type SendMessageResponse } from '@app/contracts';
import { ConflictError, ValidationError } from '@app/messaging';
import { OutboxWriter } from '@app/persistence';
import { NOTIFICATIONS_CONFIG, type NotificationsConfig } from '../config';
import { TemplateRepository } from '../templates/template.repository';
import { TemplateSyncService } from '../templates/template-sync.service';
import { ConversationLookup } from '../window/conversation-lookup';
import { WindowRepository } from '../window/window.repository';
import { bodyParameterCount, graphContent, isFreeForm, textOf } from './graph-body';
import { MediaCheck } from './media-check';
import { SendRepository, type SendRow } from './send.repository';

const WINDOW_MS = 24 * 60 * 60 * 1000;

/** Stable JSON (sorted keys) so the same request always hashes the same. */
const canonical = (v: unknown): string =>
  Array.isArray(v) ? `[${v.map(canonical).join(',')}]` : v && typeof v === 'object'
    ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`
    : JSON.stringify(v);

export function responseOf(row: SendRow, duplicate: boolean): SendMessageResponse {
  const status = row.status === 'sent' ? 'sent' : row.status === 'failed' || row.status === 'unknown' ? 'failed' : 'queued';
  return { sendId: row.id, status, waMessageId: row.wa_message_id, duplicate };
}

/**
 * Accepts a send: validates it (fields, conversation, 24 h window, template), then writes the queue row and
 * OutboundQueuedV1 in one transaction. The idempotency key is a unique index: the same key returns the
 * first result and never queues a second message (a different message under a used key is a CONFLICT).
 */
@Injectable()
export class SendService {
  constructor(
    @Inject(NOTIFICATIONS_CONFIG) private readonly cfg: NotificationsConfig,
    private readonly ds: DataSource,
    private readonly sends: SendRepository,
    private readonly windows: WindowRepository,
    private readonly conversations: ConversationLookup,
    private readonly templates: TemplateRepository,
    private readonly outbox: OutboxWriter,
    private readonly templateSync: TemplateSyncService,
    private readonly media: MediaCheck,
  ) {}

  /**
   * Would `enqueue` accept this send? The same checks, nothing written: a used key with the same message is a
   * duplicate (enqueue returns the first result), with another message CONFLICT; else every rule of a new send.
   */
  async check(input: unknown): Promise<{ ok: true; duplicate: boolean }> {
    const { req, requestHash } = this.parse(input);
    const earlier = await this.sends.findByKey(this.ds.manager, req.idempotencyKey);
    if (earlier) {
      this.repeat(earlier, requestHash);
      return { ok: true, duplicate: true };
    }
    await this.checkRules(req);
    return { ok: true, duplicate: false };
  }

  private parse(input: unknown): { req: SendMessageRequest; graphBody: Record<string, unknown>; requestHash: string } {
    const parsed = SendMessageRequest.safeParse(input);
    if (!parsed.success) throw new ValidationError(describeIssues(parsed.error.issues), parsed.error.issues);
    const req = parsed.data;
    const graphBody = graphContent(req);
    const requestHash = createHash('sha256')
      .update(canonical({ p: req.phoneNumberId, t: req.to, c: req.conversationId, b: graphBody }))
      .digest('hex');
    return { req, graphBody, requestHash };
  }

  async enqueue(input: unknown): Promise<SendMessageResponse> {
    const { req, graphBody, requestHash } = this.parse(input);

    const earlier = await this.sends.findByKey(this.ds.manager, req.idempotencyKey);
    if (earlier) return this.repeat(earlier, requestHash);

    await this.checkRules(req);

    const id = randomUUID();
    const created = await this.ds.transaction(async (em) => {
      const inserted = await this.sends.insertIfNew(em, {
        id,
        idempotencyKey: req.idempotencyKey,
        requestHash,
        phoneNumberId: req.phoneNumberId,
        recipient: req.to,
        conversationId: req.conversationId,
        senderId: req.senderId,
        senderName: req.senderName,
        kind: req.message.type,
        graphBody,
      });
      if (!inserted) return false;
      await this.outbox.add(em, OutboundQueuedV1, {
        eventId: randomUUID(),
        occurredAt: new Date().toISOString(),
        sendId: id,
        phoneNumberId: req.phoneNumberId,
        conversationId: req.conversationId,
        to: req.to,
        kind: req.message.type,
        text: textOf(req.message),
        content: graphBody,
        senderId: req.senderId,
        senderName: req.senderName,
      });
      return true;
    });
    if (!created) {
      // a concurrent request with the same key committed first
      const first = await this.sends.findByKey(this.ds.manager, req.idempotencyKey);
      if (!first) throw new Error('idempotency key conflict without a row');
      return this.repeat(first, requestHash);
    }
    return { sendId: id, status: 'queued', waMessageId: null, duplicate: false };
  }

  private repeat(row: SendRow, requestHash: string): SendMessageResponse {
    if (row.request_hash !== requestHash)
      throw new ConflictError('idempotencyKey: this key was already used for a different message');
    return responseOf(row, true);
  }

  /** Reads only (no transaction needed): conversation, window, template. */
  private async checkRules(req: SendMessageRequest): Promise<void> {
    const em = this.ds.manager;
    {
      let lastInbound: Date | null;
      if (req.conversationId) {
        const conv = await this.conversations.find(req.conversationId);
        if (conv.phoneNumberId !== req.phoneNumberId)
          throw new ValidationError(`phoneNumberId: conversation ${req.conversationId} belongs to another business number`);
        lastInbound = conv.lastInboundAt;
      } else {
        lastInbound = await this.windows.lastInboundByRecipient(em, req.phoneNumberId, req.to);
      }
      if (this.cfg.OUTBOUND_WINDOW_ENFORCE && isFreeForm(req.message)) {
        const open = lastInbound !== null && Date.now() - lastInbound.getTime() < WINDOW_MS;
        if (!open)
          throw new ValidationError(
            lastInbound
              ? `message.type: the customer last wrote more than 24 hours ago (${lastInbound.toISOString()}); outside the customer-service window only an approved template can be sent`
              : 'message.type: the customer has not written to this number in the last 24 hours; outside the customer-service window only an approved template can be sent',
            { code: 'WINDOW_CLOSED', lastInboundAt: lastInbound?.toISOString() ?? null },
          );
      }
    }
    if (req.message.type === 'template') await this.checkTemplate(req.message.name, req.message.language, bodyParameterCount(req.message));
    const m = req.message;
    if ((m.type === 'image' || m.type === 'video' || m.type === 'audio' || m.type === 'document' || m.type === 'sticker') && m.id)
      await this.media.check(m.type, m.id, req.phoneNumberId);
  }

  private async checkTemplate(name: string, language: string, given: number): Promise<void> {
    const find = (em: EntityManager) => this.templates.find(em, name, language);
    let t = await find(this.ds.manager);
    if (!t || t.body_param_count === null) {
      // not synced yet: one bounded sync (the send request itself must answer within 2 s)
      await this.templateSync.syncAll(1_000).catch(() => undefined);
      t = await find(this.ds.manager);
    }
    if (!t) throw new ValidationError(`message.name: template ${name} (${language}) does not exist`);
    if (t.status !== 'APPROVED') throw new ValidationError(`message.name: template ${name} (${language}) is ${t.status}, not APPROVED`);
    if (t.body_param_count !== null && t.body_param_count !== given)
      throw new ValidationError(`message.components: template ${name} expects ${t.body_param_count} body parameter(s), got ${given}`);
  }
}
