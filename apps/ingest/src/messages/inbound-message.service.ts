import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { ConversationOpenedV1, CsatAnsweredV1, MessageReceivedV1 } from '@app/contracts';
import { OutboxWriter } from '@app/persistence';
import { ContactRepository, type ContactRow } from '../contacts/contact.repository';
import { ConversationRepository, type ConversationRow } from '../conversations/conversation.repository';
import { lockKey } from '../db.util';
import { MediaService } from '../media/media.service';
import type { NormalizedMessage } from '../normalize/normalized.types';
import { StatusService, wamidLockKey } from '../statuses/status.service';
import { csatAnswerOf } from './csat-answer';
import { messageLanguage } from './message-language';
import { MessageRepository } from './message.repository';

/** Thrown to roll back the transaction of a message that is already stored. */
export class DuplicateMessage extends Error {
  constructor() {
    super('message already stored');
  }
}

/**
 * Applies one webhook message (customer message, system message or smb echo) in the caller's transaction:
 * contact → conversation (created, or reopened by a customer message) → message (deduped by number + wamid)
 * → media job → events in the outbox.
 */
@Injectable()
export class InboundMessageService {
  constructor(
    private readonly contacts: ContactRepository,
    private readonly conversations: ConversationRepository,
    private readonly messages: MessageRepository,
    private readonly statuses: StatusService,
    private readonly media: MediaService,
    private readonly outbox: OutboxWriter,
  ) {}

  /** Returns false for a duplicate (already stored). */
  async apply(em: EntityManager, m: NormalizedMessage, receiptId: string, receivedAt: Date): Promise<boolean> {
    const pnid = m.number.phoneNumberId;
    if (m.origin === 'echo') {
      // an echo is outbound: its statuses may be arriving at the same time (they take the same lock)
      await lockKey(em, wamidLockKey(pnid, m.waMessageId));
      if (await this.messages.findByWamid(em, pnid, m.waMessageId)) return false;
    }

    const contact = await this.contacts.resolve(em, m.contact);
    if (m.system) await this.contacts.applySystemChange(em, contact.id, m.system);
    const { conversation, created } = await this.conversations.findOrCreateLocked(em, pnid, contact.id, m.sentAt);

    const message = await this.messages.insert(em, {
      conversationId: conversation.id,
      phoneNumberId: pnid,
      waMessageId: m.waMessageId,
      direction: m.direction,
      origin: m.origin,
      type: m.type,
      text: m.text,
      content: m.content,
      referral: m.referral,
      context: m.context,
      contextWaMessageId: m.contextWaMessageId,
      forwarded: m.context?.forwarded ?? false,
      frequentlyForwarded: m.context?.frequentlyForwarded ?? false,
      errors: m.errors.map((e) => ({ ...e, source: 'message' })),
      status: m.origin === 'echo' ? 'sent' : null,
      sentAt: m.sentAt,
      receiptId,
    });
    // a duplicate of a stored message (the unique index decides, also between concurrent deliveries): undo
    // the contact/conversation work of this transaction
    if (!message) throw new DuplicateMessage();

    const customer = m.origin === 'customer';
    // a blocked contact's messages are stored, but neither reopen nor route (no events): see docs/ARCHITECTURE.md
    const blocked = customer && contact.blocked_at !== null;
    if (blocked && created) await this.conversations.parkBlocked(em, conversation, receivedAt);
    // a CSAT answer (survey row picked, or the comment right after it) is kept in the thread but is nobody's
    // customer message: it does not reopen, move the 24 h window or publish message.received (docs/ARCHITECTURE.md)
    const csat = customer && !blocked ? await csatAnswerOf(em, conversation, m, message.id) : null;
    const reopened = await this.conversations.recordMessage(em, conversation, { sentAt: m.sentAt, text: m.text, customer: customer && !blocked && !csat, receivedAt });
    if ((created || reopened) && !blocked) await this.opened(em, conversation, contact, reopened, receivedAt, m);
    if (m.media) await this.media.record(em, message.id, m.media);
    if (csat) {
      await this.outbox.add(em, CsatAnsweredV1, {
        eventId: randomUUID(),
        occurredAt: receivedAt.toISOString(),
        conversationId: conversation.id,
        phoneNumberId: pnid,
        messageId: message.id,
        surveyId: csat.surveyId,
        rating: csat.rating,
        comment: csat.comment,
        answeredAt: m.sentAt.toISOString(),
      });
    } else if (m.origin !== 'system' && !blocked) {
      await this.outbox.add(em, MessageReceivedV1, {
        eventId: randomUUID(),
        occurredAt: receivedAt.toISOString(),
        conversationId: conversation.id,
        phoneNumberId: pnid,
        contactId: contact.id,
        messageId: message.id,
        waMessageId: m.waMessageId,
        direction: m.direction,
        origin: m.origin === 'echo' ? 'echo' : 'customer',
        type: m.type,
        text: m.text,
        sentAt: m.sentAt.toISOString(),
      });
    }
    if (m.origin === 'echo') await this.statuses.applyPending(em, message);
    return true;
  }

  async opened(em: EntityManager, c: ConversationRow, contact: ContactRow, reopened: boolean, at: Date, m?: Pick<NormalizedMessage, 'type' | 'text' | 'referral' | 'content' | 'origin'>): Promise<void> {
    // routing rules may match on the contact (labels, attributes, returning) and the opening message (its language:
    // detected from what the customer wrote, null when short or unclear; an echo is the business's own words)
    const language = m?.origin === 'customer' ? messageLanguage(m.type, m.content) : null;
    const returning = reopened || (await this.conversations.contactHasOther(em, contact.id, c.id));
    await this.outbox.add(em, ConversationOpenedV1, {
      eventId: randomUUID(),
      occurredAt: at.toISOString(),
      conversationId: c.id,
      phoneNumberId: c.phone_number_id,
      contactId: contact.id,
      contactName: contact.profile_name,
      waId: contact.wa_id,
      userId: contact.user_id,
      reopened,
      contact: { returning, labels: contact.labels ?? [], attributes: contact.attributes ?? {} },
      ...(m ? { message: { type: m.type, text: m.text, language, referral: m.referral ?? undefined } } : {}),
    });
  }
}
