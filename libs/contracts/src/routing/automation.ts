import { z } from 'zod';
import { defineRequest } from '../define';
import { Actor } from './routing.requests';

/**
 * Automation owned by routing (issue 14): greeting and away replies per business number or team. Admins manage
 * every reply; managers those of their teams. The gateway checks that a named team exists.
 */

export const AUTO_REPLY_KINDS = ['greeting', 'away'] as const;
export type AutoReplyKind = (typeof AUTO_REPLY_KINDS)[number];

export const AutoReply = z.object({
  id: z.string().uuid(),
  kind: z.enum(AUTO_REPLY_KINDS),
  /** Exactly one of teamId / phoneNumberId; a number's reply wins over its team's. */
  teamId: z.string().uuid().nullable(),
  phoneNumberId: z.string().nullable(),
  text: z.string(),
  /** Sent at most once per conversation within this many minutes. */
  periodMinutes: z.number().int(),
  enabled: z.boolean(),
  sentCount: z.number().int(),
  errorCount: z.number().int(),
  lastError: z.string().nullable(),
  updatedAt: z.string(),
});
export type AutoReply = z.infer<typeof AutoReply>;

export const AutoReplyInput = z
  .object({
    kind: z.enum(AUTO_REPLY_KINDS),
    teamId: z.string().uuid().nullable().default(null),
    phoneNumberId: z.string().trim().regex(/^\d{1,32}$/, 'phoneNumberId must be digits').nullable().default(null),
    text: z
      .string()
      .max(4096, 'text is longer than 4096 characters')
      .refine((s) => s.trim().length > 0, 'text must not be empty'),
    periodMinutes: z.number().int().min(1).max(525_600).default(1440),
    enabled: z.boolean().default(true),
  })
  .strict()
  .refine((r) => (r.teamId === null) !== (r.phoneNumberId === null), 'give exactly one of teamId or phoneNumberId');

/** Create or replace the reply of that kind for that team or number. */
export const PutAutoReplyV1 = defineRequest({
  subject: 'routing.put-auto-reply.v1',
  service: 'routing',
  request: z.object({ actor: Actor, reply: AutoReplyInput }),
  response: AutoReply,
  timeoutMs: 2_000,
});

/** Admins see every reply, managers those of their teams. */
export const ListAutoRepliesV1 = defineRequest({
  subject: 'routing.list-auto-replies.v1',
  service: 'routing',
  request: z.object({ actor: Actor }),
  response: z.object({ items: z.array(AutoReply) }),
  timeoutMs: 2_000,
});

export const DeleteAutoReplyV1 = defineRequest({
  subject: 'routing.delete-auto-reply.v1',
  service: 'routing',
  request: z.object({ actor: Actor, id: z.string().uuid() }),
  response: z.object({ deleted: z.boolean() }),
  timeoutMs: 2_000,
});
