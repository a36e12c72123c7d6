import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { OutboundFailedV1, OutboundQueuedV1, OutboundSentV1, type PayloadOf } from '@app/contracts';
import { Bus } from '@app/messaging';
import { claimEvent } from '@app/persistence';
import { ContactRepository } from '../contacts/contact.repository';
import { ConversationRepository, type ConversationRow } from '../conversations/conversation.repository';
import { lockKey, one } from '../db.util';
import { BusinessNumberService } from '../numbers/business-number.service';
import { StatusService, wamidLockKey } from '../statuses/status.service';
import { InboundMessageService } from './inbound-message.service';
import { MessageRepository, type MessageRow } from './message.repository';

interface SendRow {
  wa_message_id: string | null;
  sent_at: Date | null;
  failure: { code: number | null; title: string | null; explanation: string } | null;
}

/** A BSUID looks like `US.13491208655302741918`; a wa_id is digits. */
const isBsuid = (to: string) => /^[A-Z]{2}\.[A-Za-z0-9.]+$/.test(to);

/**
 * Notifications' send lifecycle recorded on the message: queued creates the outbound message (origin `inbox`),
 * sent links the wamid (then pending webhook statuses apply), failed records the error. Each event is applied
 * once (processed_event) and in any order: what arrives before `queued` waits in ingest.outbound_send.
 */
@Injectable()
export class OutboundHandler implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly numbers: BusinessNumberService,
    private readonly contacts: ContactRepository,
    private readonly conversations: ConversationRepository,
    private readonly messages: MessageRepository,
    private readonly statuses: StatusService,
    private readonly inbound: InboundMessageService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const opts = (d: string) => ({ durable: d, concurrency: 4 });
    await this.bus.consume(OutboundQueuedV1, opts('ingest-outbound-queued'), (e) => this.once('ingest-outbound-queued', e.eventId, (em) => this.queued(em, e)));
    await this.bus.consume(OutboundSentV1, opts('ingest-outbound-sent'), (e) => this.once('ingest-outbound-sent', e.eventId, (em) => this.sent(em, e)));
    await this.bus.consume(OutboundFailedV1, opts('ingest-outbound-failed'), (e) => this.once('ingest-outbound-failed', e.eventId, (em) => this.failed(em, e)));
  }

  private once(consumer: string, eventId: string, fn: (em: EntityManager) => Promise<void>): Promise<void> {
    return this.ds.transaction(async (em) => {
      if (!(await claimEvent(em, 'ingest', consumer, eventId))) return;
      await fn(em);
    });
  }

  async queued(em: EntityManager, e: PayloadOf<typeof OutboundQueuedV1>): Promise<void> {
    await lockKey(em, `ingest-send:${e.sendId}`);
    if (await this.messages.findBySendId(em, e.sendId)) return;
    await this.numbers.ensure(em, { phoneNumberId: e.phoneNumberId, displayPhoneNumber: null, wabaId: null });
    const at = new Date(e.occurredAt);
    let conversation: ConversationRow | undefined = e.conversationId ? await this.conversations.findLocked(em, e.conversationId) : undefined;
    if (!conversation) {
      const contact = await this.contacts.resolve(em, {
        waId: isBsuid(e.to) ? null : e.to, userId: isBsuid(e.to) ? e.to : null, parentUserId: null, name: null, username: null,
      });
      const found = await this.conversations.findOrCreateLocked(em, e.phoneNumberId, contact.id, at);
      conversation = found.conversation;
      if (found.created) await this.inbound.opened(em, conversation, contact, false, at);
    }
    const send = await this.send(em, e.sendId);
    const message = await this.messages.insert(em, {
      conversationId: conversation.id,
      phoneNumberId: conversation.phone_number_id,
      waMessageId: null,
      sendId: e.sendId,
      direction: 'outbound',
      origin: 'inbox',
      type: e.kind,
      text: e.text,
      content: e.content,
      status: 'queued',
      sentAt: at,
    });
    if (!message) return;
    const uploadId = (e.content[e.kind] as { upload_id?: unknown } | undefined)?.upload_id;
    if (typeof uploadId === 'string') {
      // an agent's attachment: the message's media is the stored upload (the timeline shows it like inbound media)
      await em.query(
        `INSERT INTO ingest.media (message_id, media_id, mime_type, size, sha256, state, storage_key)
         SELECT $1, 'upload:' || u.id, u.mime_type, u.size, u.sha256, 'stored', u.storage_key FROM ingest.upload u
         WHERE u.id = $2 AND u.state = 'stored' ON CONFLICT (message_id) DO NOTHING`,
        [message.id, uploadId],
      );
    }
    await this.conversations.recordMessage(em, conversation, { sentAt: at, text: e.text, customer: false, receivedAt: at });
    if (send?.wa_message_id) await this.link(em, message, send.wa_message_id, send.sent_at);
    if (send?.failure) await this.fail(em, message, send.failure);
  }

  async sent(em: EntityManager, e: PayloadOf<typeof OutboundSentV1>): Promise<void> {
    await lockKey(em, `ingest-send:${e.sendId}`);
    await em.query(
      `INSERT INTO ingest.outbound_send (send_id, phone_number_id, wa_message_id, sent_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (send_id) DO UPDATE SET wa_message_id = EXCLUDED.wa_message_id, sent_at = EXCLUDED.sent_at, updated_at = now()`,
      [e.sendId, e.phoneNumberId, e.waMessageId, e.occurredAt],
    );
    const message = await this.messages.findBySendId(em, e.sendId);
    if (message) await this.link(em, message, e.waMessageId, new Date(e.occurredAt));
  }

  async failed(em: EntityManager, e: PayloadOf<typeof OutboundFailedV1>): Promise<void> {
    await lockKey(em, `ingest-send:${e.sendId}`);
    const failure = { code: e.code, title: e.title, explanation: e.explanation };
    await em.query(
      `INSERT INTO ingest.outbound_send (send_id, phone_number_id, failure) VALUES ($1, $2, $3)
       ON CONFLICT (send_id) DO UPDATE SET failure = EXCLUDED.failure, updated_at = now()`,
      [e.sendId, e.phoneNumberId, JSON.stringify(failure)],
    );
    const message = await this.messages.findBySendId(em, e.sendId);
    if (message) await this.fail(em, message, failure);
  }

  private send(em: EntityManager, sendId: string): Promise<SendRow | undefined> {
    return one<SendRow>(em, `SELECT wa_message_id, sent_at, failure FROM ingest.outbound_send WHERE send_id = $1`, [sendId]);
  }

  private async link(em: EntityManager, message: MessageRow, waMessageId: string, at: Date | null): Promise<void> {
    await lockKey(em, wamidLockKey(message.phone_number_id, waMessageId));
    if (!message.wa_message_id) await this.messages.linkWamid(em, message, waMessageId);
    if (message.wa_message_id !== waMessageId) return;
    await this.statuses.move(em, message, 'sent', at, []);
    await this.statuses.applyPending(em, message);
  }

  private async fail(em: EntityManager, message: MessageRow, f: NonNullable<SendRow['failure']>): Promise<void> {
    await this.statuses.move(em, message, 'failed', new Date(), [
      { code: f.code, title: f.title, message: f.explanation, details: f.explanation, href: null, source: 'send' },
    ]);
  }
}
