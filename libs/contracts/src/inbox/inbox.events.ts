import { z } from 'zod';
import { defineEvent, eventBase } from '../define';

export const MESSAGE_STATUSES = ['queued', 'sent', 'delivered', 'read', 'played', 'failed'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

const conversationRef = {
  conversationId: z.string().uuid(),
  phoneNumberId: z.string(), // the business number (Meta's phone_number_id)
  contactId: z.string().uuid(),
};

/** Ingest stored a new message from the customer (or an echo sent from the phone app). */
export const MessageReceivedV1 = defineEvent({
  subject: 'inbox.message.received.v1',
  stream: 'INBOX_EVENTS',
  schema: z.object({
    ...eventBase,
    ...conversationRef,
    messageId: z.string().uuid(),
    waMessageId: z.string(),
    direction: z.enum(['inbound', 'outbound']),
    /** `echo` = typed in the WhatsApp Business app on the phone (coexistence); never opens the 24 h window. */
    origin: z.enum(['customer', 'echo']),
    type: z.string(),
    text: z.string(), // text rendering for lists and search
    sentAt: z.string(), // WhatsApp timestamp (ISO)
  }),
});

/** A conversation was created (first message from a contact on a number) or reopened after being resolved. */
export const ConversationOpenedV1 = defineEvent({
  subject: 'inbox.conversation.opened.v1',
  stream: 'INBOX_EVENTS',
  schema: z.object({
    ...eventBase,
    ...conversationRef,
    contactName: z.string().nullable(),
    waId: z.string().nullable(),
    userId: z.string().nullable(),
    reopened: z.boolean(),
    /** Routing rules' conditions (optional: absent = unknown, the condition does not match). */
    contact: z
      .object({
        /** Had a conversation with the business before (or this one is reopened). */
        returning: z.boolean().optional(),
        labels: z.array(z.string()).optional(),
        attributes: z.record(z.string()).optional(),
      })
      .optional(),
    /**
     * The message that opened (or reopened) it. `language`: detected by ingest from what the customer wrote (ISO
     * 639-1, e.g. "de"); null when too short or unclear, absent from older publishers.
     */
    message: z
      .object({ type: z.string(), text: z.string(), language: z.string().nullable().optional(), referral: z.unknown().optional() })
      .optional(),
  }),
});

/** An outbound message's delivery status moved forward (never backwards). */
export const MessageStatusChangedV1 = defineEvent({
  subject: 'inbox.message.status-changed.v1',
  stream: 'INBOX_EVENTS',
  schema: z.object({
    ...eventBase,
    conversationId: z.string().uuid().nullable(),
    messageId: z.string().uuid().nullable(),
    waMessageId: z.string(),
    status: z.enum(MESSAGE_STATUSES),
    errors: z.array(z.object({ code: z.number().nullable(), title: z.string().nullable(), details: z.string().nullable() })),
  }),
});

/** Non-message webhook fields: template status, number quality, account updates, app state sync, … */
export const WhatsAppAccountEventV1 = defineEvent({
  subject: 'inbox.whatsapp.account-event.v1',
  stream: 'INBOX_EVENTS',
  schema: z.object({
    ...eventBase,
    field: z.string(),
    wabaId: z.string().nullable(),
    phoneNumberId: z.string().nullable(),
    value: z.unknown(),
  }),
});

/**
 * Routing (later) marks a conversation resolved. Ingest consumes it; a newer inbound message reopens the same
 * conversation (ConversationOpenedV1 with `reopened: true`). Applied only if not older than the last reopen.
 */
export const ConversationResolvedV1 = defineEvent({
  subject: 'inbox.conversation.resolved.v1',
  stream: 'INBOX_EVENTS',
  schema: z.object({
    ...eventBase,
    conversationId: z.string().uuid(),
    resolvedBy: z.string().nullable(), // user id; null = system
  }),
});
