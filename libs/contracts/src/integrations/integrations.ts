import { z } from 'zod';
import { defineEvent, defineRequest } from '../define';

/**
 * Integrator platform (issue 13). The gateway owns the registry of Meta apps, WhatsApp Business Accounts and
 * their phone numbers (secrets encrypted at rest); services that call the Graph API for a number ask it for
 * that number's credentials. NOT_FOUND = the number is not in the registry (callers fall back to their
 * configured default app).
 */
export const GetNumberCredentialsV1 = defineRequest({
  subject: 'gateway.get-number-credentials.v1',
  service: 'gateway',
  request: z.object({ phoneNumberId: z.string().regex(/^\d{1,32}$/) }),
  response: z.object({
    phoneNumberId: z.string(),
    wabaId: z.string(),
    graphApiVersion: z.string(),
    /** Only travels on the internal bus; never logged, never returned by the HTTP API. */
    accessToken: z.string(),
    /** false when the number, its account or its app is disabled: callers must not send from it. */
    active: z.boolean(),
  }),
  timeoutMs: 2_000,
});

/**
 * The event types integrators can subscribe to, and the INBOX_EVENTS subject each one is read from. Names are
 * a public API (they appear in every delivery): never rename one, add a new one instead.
 */
export const INTEGRATOR_EVENT_SUBJECTS = {
  'message.received': 'inbox.message.received.v1',
  'message.status-changed': 'inbox.message.status-changed.v1',
  'conversation.opened': 'inbox.conversation.opened.v1',
  'conversation.assigned': 'inbox.conversation.assigned.v1',
  'conversation.work-changed': 'inbox.conversation.work-changed.v1',
  'conversation.resolved': 'inbox.conversation.resolved.v1',
  'note.added': 'inbox.note.added.v1',
  'outbound.queued': 'inbox.outbound.queued.v1',
  'outbound.sent': 'inbox.outbound.sent.v1',
  'outbound.failed': 'inbox.outbound.failed.v1',
  'automation.triggered': 'inbox.automation.triggered.v1',
} as const;
export type IntegratorEventType = keyof typeof INTEGRATOR_EVENT_SUBJECTS;
export const INTEGRATOR_EVENT_TYPES = Object.keys(INTEGRATOR_EVENT_SUBJECTS) as IntegratorEventType[];

/**
 * Every event on INBOX_EVENTS, read by one durable consumer in stream order (so deliveries keep the order of
 * a conversation's events). Only `eventId` is required; the rest passes through as published.
 */
export const AllInboxEvents = defineEvent({
  subject: 'inbox.>',
  stream: 'INBOX_EVENTS',
  schema: z.object({ eventId: z.string().uuid() }).passthrough(),
});
