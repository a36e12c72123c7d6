import { z } from 'zod';
import { defineRequest } from '../define';
import { Actor, WorkState } from './routing.requests';

/**
 * Bot handover (issue 14): an integrator's bot (an API key with the `bot` scope, actor type `bot`) holds a
 * conversation — routing assigns nobody and SLA clocks stay paused — replies through the normal reply route, and
 * hands over to a team with a summary note (stored as an internal note); people take it back. Every step is one
 * audit entry with before/after and a `conversation.work-changed.v1` event.
 */

/** The bot takes (holds) an unowned conversation. Refused with CONFLICT if a person owns it or another bot holds it. */
export const BotHoldV1 = defineRequest({
  subject: 'routing.bot-hold.v1',
  service: 'routing',
  request: z.object({ actor: Actor, conversationId: z.string().uuid(), version: z.number().int().min(1).optional() }),
  response: WorkState,
  timeoutMs: 2_000,
});

/** The holding bot hands over to a team with a summary note; the team's strategy picks the owner (or it queues). */
export const BotHandoverV1 = defineRequest({
  subject: 'routing.bot-handover.v1',
  service: 'routing',
  request: z.object({
    actor: Actor,
    conversationId: z.string().uuid(),
    version: z.number().int().min(1).optional(),
    teamId: z.string().uuid(),
    note: z.string().trim().min(1).max(4000),
  }),
  response: WorkState,
  timeoutMs: 2_000,
});

/** A person takes a conversation back from the bot and becomes its owner. */
export const BotTakeBackV1 = defineRequest({
  subject: 'routing.bot-take-back.v1',
  service: 'routing',
  request: z.object({ actor: Actor, conversationId: z.string().uuid(), version: z.number().int().min(1) }),
  response: WorkState,
  timeoutMs: 2_000,
});

/**
 * Admin: new (and reopened, unowned) conversations on a business number go to this bot instead of the team's
 * strategy (null = no bot). The gateway checks the key is a live API key with the `bot` scope. Audited.
 */
export const SetNumberBotV1 = defineRequest({
  subject: 'routing.set-number-bot.v1',
  service: 'routing',
  request: z.object({
    actor: Actor,
    phoneNumberId: z.string().trim().min(1).max(64),
    bot: z.object({ id: z.string().uuid(), name: z.string().max(200).nullable() }).nullable(),
  }),
  response: z.object({ phoneNumberId: z.string(), bot: z.object({ id: z.string(), name: z.string().nullable() }).nullable() }),
  timeoutMs: 2_000,
});

/** Admin: the bot a business number's new conversations go to (null = none). */
export const GetNumberBotV1 = defineRequest({
  subject: 'routing.get-number-bot.v1',
  service: 'routing',
  request: z.object({ phoneNumberId: z.string().trim().min(1).max(64) }),
  response: z.object({ phoneNumberId: z.string(), bot: z.object({ id: z.string(), name: z.string().nullable() }).nullable() }),
  timeoutMs: 2_000,
});
