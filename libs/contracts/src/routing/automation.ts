import { z } from 'zod';
import { defineEvent, defineRequest, eventBase } from '../define';
import { Actor, PRIORITIES, WorkState } from './routing.requests';

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

/**
 * Macros: named sequences of routing's audited commands an agent runs on a conversation in one click. Shared
 * (admins/managers create) or personal (anyone, for themselves). Each step runs as the agent, so ownership and
 * permissions hold exactly as when the agent clicks the action; a refused step stops the run with its error
 * (FORBIDDEN, NOT_FOUND, …, the message naming the step); the steps before it stay applied, each audited.
 */
const macroLabel = z.string().trim().min(1).max(50);
export const MacroStep = z.discriminatedUnion('type', [
  z.object({ type: z.literal('addLabels'), labels: z.array(macroLabel).min(1).max(20) }).strict(),
  z.object({ type: z.literal('removeLabels'), labels: z.array(macroLabel).min(1).max(20) }).strict(),
  z.object({ type: z.literal('setPriority'), priority: z.enum(PRIORITIES) }).strict(),
  z.object({ type: z.literal('setStatus'), status: z.enum(['open', 'pending', 'resolved']) }).strict(),
  /** Snoozed until now + minutes (it wakes open, as any snooze). */
  z.object({ type: z.literal('snooze'), minutes: z.number().int().min(1).max(43_200) }).strict(),
  z.object({ type: z.literal('handoff'), toTeamId: z.string().uuid(), note: z.string().trim().min(1).max(4000) }).strict(),
  /**
   * Make this person the owner, through routing's audited assign command (AssignV1's rules: the actor must manage
   * the conversation's team — a macro run by an agent is refused — and the person must be a member of it). Saved
   * only for an existing, active, non-viewer user (a rule's: a member of every team the rule names). A rule does not
   * override availability: when the person is offline or at their (or the team's) capacity the action is skipped
   * and counted as the rule's failure, and the next actions still run; a macro is a person's manual assign.
   */
  z.object({ type: z.literal('assign'), agentId: z.string().uuid() }).strict(),
  z.object({ type: z.literal('note'), body: z.string().trim().min(1).max(4000) }).strict(),
  /** An in-app notice about the conversation to these people and/or the team's managers (and its watchers). */
  z
    .object({
      type: z.literal('notify'),
      userIds: z.array(z.string().uuid()).max(50).default([]),
      teamManagers: z.boolean().default(false),
      title: z.string().trim().min(1).max(200),
    })
    .strict(),
  /**
   * A canned response (gateway's), its placeholders filled for the conversation, sent to the customer through
   * notifications' normal path: by a rule as the system, by a macro as the agent running it (who must own the
   * conversation or be able to claim it, as for any reply). Free text, so only inside the 24 h window: outside it
   * notifications refuses and the rule counts the failure (a macro run stops with the refusal). A placeholder
   * without a value refuses the send too (the customer never gets "order  is on its way").
   */
  z.object({ type: z.literal('sendCanned'), cannedResponseId: z.string().uuid() }).strict(),
]);
export type MacroStep = z.infer<typeof MacroStep>;

/**
 * Routing asks the gateway (which owns canned responses) for a canned response's text with its placeholders filled
 * for a contact and an agent (`{{agent.name}}`: that user's name; null = no agent, the placeholder stays missing).
 * NOT_FOUND when the response was deleted. `missing` names placeholders that had no value (left empty in `text`).
 */
export const RenderCannedV1 = defineRequest({
  subject: 'gateway.render-canned.v1',
  service: 'gateway',
  request: z.object({ cannedResponseId: z.string().uuid(), contactId: z.string().uuid(), agentId: z.string().uuid().nullable() }),
  response: z.object({ text: z.string(), missing: z.array(z.string()) }),
  // the gateway asks ingest for the contact (2 s) before it answers
  timeoutMs: 4_000,
});

export const Macro = z.object({
  id: z.string().uuid(),
  name: z.string(),
  /** null = shared with everyone; else the person whose personal macro it is. */
  ownerId: z.string().nullable(),
  steps: z.array(MacroStep),
  updatedAt: z.string(),
});
export type Macro = z.infer<typeof Macro>;

export const CreateMacroV1 = defineRequest({
  subject: 'routing.create-macro.v1',
  service: 'routing',
  request: z.object({
    actor: Actor,
    name: z.string().trim().min(1).max(100),
    shared: z.boolean().default(false),
    steps: z.array(MacroStep).min(1).max(20),
  }),
  response: Macro,
  timeoutMs: 2_000,
});

/** The shared macros and the actor's own. */
export const ListMacrosV1 = defineRequest({
  subject: 'routing.list-macros.v1',
  service: 'routing',
  request: z.object({ actor: Actor }),
  response: z.object({ items: z.array(Macro) }),
  timeoutMs: 2_000,
});

/** Change a macro (any of name, shared, steps): personal ones by their owner, shared ones by admins and managers. Audited. */
export const UpdateMacroV1 = defineRequest({
  subject: 'routing.update-macro.v1',
  service: 'routing',
  request: z.object({
    actor: Actor,
    macroId: z.string().uuid(),
    name: z.string().trim().min(1).max(100).optional(),
    shared: z.boolean().optional(),
    steps: z.array(MacroStep).min(1).max(20).optional(),
  }),
  response: Macro,
  timeoutMs: 2_000,
});

/** Delete a macro (same permissions as changing it). Audited; NOT_FOUND for a macro the actor cannot see. */
export const DeleteMacroV1 = defineRequest({
  subject: 'routing.delete-macro.v1',
  service: 'routing',
  request: z.object({ actor: Actor, macroId: z.string().uuid() }),
  response: z.object({ deleted: z.literal(true) }),
  timeoutMs: 2_000,
});

export const RunMacroV1 = defineRequest({
  subject: 'routing.run-macro.v1',
  service: 'routing',
  request: z.object({ actor: Actor, macroId: z.string().uuid(), conversationId: z.string().uuid() }),
  response: z.object({
    state: WorkState,
    steps: z.array(z.object({ type: z.string(), changed: z.boolean() })),
  }),
  timeoutMs: 5_000,
});

/**
 * Automation rules (admins; managers for rules whose conditions name only their teams): on an event, when every
 * given condition holds, run the actions (the macro steps) as the system actor `automation:<ruleId>`, so each
 * action is an audit entry naming the rule. Ordered; every matching enabled rule runs. Loop protection: the
 * actions run under a correlation id carrying the chain of rules that caused them; a rule never runs again in
 * its own chain, and a chain stops at AUTOMATION_MAX_DEPTH. Rules whose actions would trigger each other in a
 * cycle are refused (VALIDATION). A rule that fails at run time is logged and counted on the rule.
 */
export const AUTOMATION_EVENTS = ['conversation.opened', 'message.received', 'status.changed', 'label.added', 'sla.warning', 'sla.breach', 'conversation.idle'] as const;
export type AutomationEvent = (typeof AUTOMATION_EVENTS)[number];
export const AUTOMATION_MAX_DEPTH = 4;

export const AutomationConditions = z
  .object({
    teamIds: z.array(z.string().uuid()).min(1).max(50).optional(),
    /** The conversation carries any of these labels (for label.added: the label just added is one of them). */
    labels: z.array(macroLabel).min(1).max(20).optional(),
    priorities: z.array(z.enum(PRIORITIES)).min(1).max(4).optional(),
    /** For status.changed: the new status is one of these. */
    statuses: z.array(z.enum(['open', 'pending', 'snoozed', 'resolved'])).min(1).max(4).optional(),
    /** For message.received / conversation.opened: the text contains any of these words (case-insensitive). */
    keywords: z.array(z.string().trim().min(1).max(100)).min(1).max(50).optional(),
    /** The contact's attributes (as at the conversation's opening) equal all of these (case-insensitive). */
    contactAttributes: z.record(z.string().min(1).max(64), z.string().max(200)).optional(),
    /** For conversation.idle (required there): open with no activity for this many minutes; fires once per quiet spell. */
    idleMinutes: z.number().int().min(1).max(43_200).optional(),
    /** Inside or outside the conversation's team's business hours (asked of sla; unanswered = the rule fails). */
    businessHours: z.enum(['open', 'closed']).optional(),
  })
  .strict();
export type AutomationConditions = z.infer<typeof AutomationConditions>;

/**
 * A rule's actions: the macro steps, plus messages to the customer sent as the system through notifications'
 * normal path (a free-form reply only inside the 24 h window, else refused and counted; a template must be approved).
 */
export const AutomationAction = z.discriminatedUnion('type', [
  ...MacroStep.options,
  z.object({ type: z.literal('reply'), text: z.string().trim().min(1).max(4096) }).strict(),
  /** Calls the integrators subscribed to `automation.triggered` (the event-webhook machinery) with this name. */
  z.object({ type: z.literal('webhook'), name: z.string().trim().min(1).max(100) }).strict(),
  z
    .object({
      type: z.literal('template'),
      name: z.string().trim().min(1).max(512),
      language: z.string().trim().min(2).max(16),
      bodyParameters: z.array(z.string().max(1024)).max(20).default([]),
    })
    .strict(),
]);
export type AutomationAction = z.infer<typeof AutomationAction>;

const automationRuleFields = {
  name: z.string().trim().min(1).max(100),
  event: z.enum(AUTOMATION_EVENTS),
  conditions: AutomationConditions.default({}),
  actions: z.array(AutomationAction).min(1).max(20),
  enabled: z.boolean().default(true),
};

/** A change to a rule: any of its fields (the result is checked as a whole, like a new rule). */
export const AutomationRulePatch = z
  .object(automationRuleFields)
  .partial()
  .strict()
  .refine((p) => Object.keys(p).length > 0, { message: 'give at least one of name, event, conditions, actions, enabled' });
export type AutomationRulePatch = z.infer<typeof AutomationRulePatch>;

export const AutomationRuleInput = z
  .object(automationRuleFields)
  .strict()
  .refine((r) => (r.event === 'conversation.idle') === (r.conditions.idleMinutes !== undefined), {
    message: 'conditions.idleMinutes is required for event conversation.idle, and only there',
    path: ['conditions', 'idleMinutes'],
  });

export const AutomationRule = z.object({
  id: z.string().uuid(),
  position: z.number().int(),
  name: z.string(),
  event: z.enum(AUTOMATION_EVENTS),
  conditions: AutomationConditions,
  actions: z.array(AutomationAction),
  enabled: z.boolean(),
  runCount: z.number().int(),
  errorCount: z.number().int(),
  lastError: z.string().nullable(),
  loopsStopped: z.number().int(),
});
export type AutomationRule = z.infer<typeof AutomationRule>;

export const CreateAutomationRuleV1 = defineRequest({
  subject: 'routing.create-automation-rule.v1',
  service: 'routing',
  request: z.object({ actor: Actor, rule: AutomationRuleInput }),
  response: AutomationRule,
  timeoutMs: 2_000,
});

export const ListAutomationRulesV1 = defineRequest({
  subject: 'routing.list-automation-rules.v1',
  service: 'routing',
  request: z.object({ actor: Actor }),
  response: z.object({ items: z.array(AutomationRule) }),
  timeoutMs: 2_000,
});

export const SetAutomationRuleEnabledV1 = defineRequest({
  subject: 'routing.set-automation-rule-enabled.v1',
  service: 'routing',
  request: z.object({ actor: Actor, ruleId: z.string().uuid(), enabled: z.boolean() }),
  response: AutomationRule,
  timeoutMs: 2_000,
});

/** Change a rule's fields (same permissions and checks as creating one, for the rule before and after). Audited. */
export const UpdateAutomationRuleV1 = defineRequest({
  subject: 'routing.update-automation-rule.v1',
  service: 'routing',
  request: z.object({ actor: Actor, ruleId: z.string().uuid(), patch: AutomationRulePatch }),
  response: AutomationRule,
  timeoutMs: 2_000,
});

/** Delete a rule (admins; managers for rules of their teams). Audited. */
export const DeleteAutomationRuleV1 = defineRequest({
  subject: 'routing.delete-automation-rule.v1',
  service: 'routing',
  request: z.object({ actor: Actor, ruleId: z.string().uuid() }),
  response: z.object({ deleted: z.literal(true) }),
  timeoutMs: 2_000,
});

/** Which enabled rules would run for that event on a (past) conversation now, and their actions. Changes nothing. */
export const DryRunAutomationV1 = defineRequest({
  subject: 'routing.dry-run-automation.v1',
  service: 'routing',
  request: z.object({
    actor: Actor,
    conversationId: z.string().uuid(),
    event: z.enum(AUTOMATION_EVENTS),
    text: z.string().max(4096).optional(),
    label: z.string().max(50).optional(),
  }),
  response: z.object({ matches: z.array(z.object({ ruleId: z.string().uuid(), name: z.string(), actions: z.array(AutomationAction) })) }),
  timeoutMs: 2_000,
});

/** A rule's `webhook` action: delivered to integrators subscribed to the event type `automation.triggered`. */
export const AutomationTriggeredV1 = defineEvent({
  subject: 'inbox.automation.triggered.v1',
  stream: 'INBOX_EVENTS',
  schema: z.object({
    ...eventBase,
    conversationId: z.string().uuid(),
    ruleId: z.string().uuid(),
    ruleName: z.string(),
    /** The action's name, for the integrator to tell its hooks apart. */
    name: z.string(),
    /** What triggered the rule. */
    trigger: z.enum(AUTOMATION_EVENTS),
    teamId: z.string().uuid().nullable(),
    ownerId: z.string().uuid().nullable(),
  }),
});

// ------------------------------------------------------------------ CSAT (issue 14, item 5)

/**
 * Customer satisfaction surveys. A setting per team or business number (the number's wins, as for greeting/away
 * replies): when a conversation is resolved, its 24 h window is open and no survey went out in this episode (since
 * the customer last opened or reopened it), routing sends one interactive list (rows 5 … 1, ids
 * `csat:<surveyId>:<rating>:<commentMinutes>`) as the system. The customer's pick is recorded as the rating of the
 * conversation and of its owner at the resolve, without reopening it; with a comment prompt, one free-text message
 * within `commentMinutes` after the rating is stored as the comment (also without reopening).
 */
export const CSAT_RATINGS = [5, 4, 3, 2, 1] as const;
/** The list rows, best first (titles ≤ 24 characters, REFERENCE §2). */
export const CSAT_ROW_TITLES: Record<number, string> = { 5: '5 – Excellent', 4: '4 – Good', 3: '3 – Okay', 2: '2 – Poor', 1: '1 – Very poor' };
/** A list-reply / button-reply id of a survey row: survey, rating, minutes a comment is taken for (0 = none). */
export const CSAT_REPLY_ID = /^csat:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):([1-5]):(\d{1,2})$/;
export const csatReplyId = (surveyId: string, rating: number, commentMinutes: number) => `csat:${surveyId}:${rating}:${commentMinutes}`;

export const CsatSetting = z.object({
  id: z.string().uuid(),
  /** Exactly one of teamId / phoneNumberId; a number's setting wins over its team's. */
  teamId: z.string().uuid().nullable(),
  phoneNumberId: z.string().nullable(),
  enabled: z.boolean(),
  /** The survey's text (the interactive list's body). */
  question: z.string(),
  /** The label of the button that opens the list. */
  buttonText: z.string(),
  /** Sent after a rating, asking for a comment; null = no comment asked. */
  commentPrompt: z.string().nullable(),
  /** How long after the rating a free-text message counts as the comment. */
  commentMinutes: z.number().int(),
  sentCount: z.number().int(),
  errorCount: z.number().int(),
  lastError: z.string().nullable(),
  updatedAt: z.string(),
});
export type CsatSetting = z.infer<typeof CsatSetting>;

const nonBlank = (max: number, what: string) =>
  z
    .string()
    .max(max, `${what} is longer than ${max} characters`)
    .refine((s) => s.trim().length > 0, `${what} must not be empty`);

export const CsatSettingInput = z
  .object({
    teamId: z.string().uuid().nullable().default(null),
    phoneNumberId: z.string().trim().regex(/^\d{1,32}$/, 'phoneNumberId must be digits').nullable().default(null),
    enabled: z.boolean().default(true),
    question: nonBlank(1024, 'question').default('How satisfied are you with our help?'),
    buttonText: nonBlank(20, 'buttonText').default('Rate us'),
    commentPrompt: nonBlank(1024, 'commentPrompt').nullable().default(null),
    commentMinutes: z.number().int().min(1).max(60).default(10),
  })
  .strict()
  .refine((r) => (r.teamId === null) !== (r.phoneNumberId === null), 'give exactly one of teamId or phoneNumberId');

/** Create or replace the CSAT setting of that team or number (admins; managers for their teams). */
export const PutCsatSettingV1 = defineRequest({
  subject: 'routing.put-csat-setting.v1',
  service: 'routing',
  request: z.object({ actor: Actor, setting: CsatSettingInput }),
  response: CsatSetting,
  timeoutMs: 2_000,
});

export const ListCsatSettingsV1 = defineRequest({
  subject: 'routing.list-csat-settings.v1',
  service: 'routing',
  request: z.object({ actor: Actor }),
  response: z.object({ items: z.array(CsatSetting) }),
  timeoutMs: 2_000,
});

export const DeleteCsatSettingV1 = defineRequest({
  subject: 'routing.delete-csat-setting.v1',
  service: 'routing',
  request: z.object({ actor: Actor, id: z.string().uuid() }),
  response: z.object({ deleted: z.boolean() }),
  timeoutMs: 2_000,
});

export const CSAT_SURVEY_STATUSES = ['sending', 'sent', 'not_sent'] as const;
export const CsatSurvey = z.object({
  surveyId: z.string().uuid(),
  conversationId: z.string().uuid(),
  /** 1 = the first opening, +1 per reopening by the customer. */
  episode: z.number().int(),
  teamId: z.string().uuid().nullable(),
  /** The owner when the conversation was resolved (null = nobody owned it). */
  agentId: z.string().uuid().nullable(),
  status: z.enum(CSAT_SURVEY_STATUSES),
  /** Why it was not sent (e.g. the 24 h window had closed). */
  reason: z.string().nullable(),
  sentAt: z.string().nullable(),
  rating: z.number().int().min(1).max(5).nullable(),
  ratedAt: z.string().nullable(),
  comment: z.string().nullable(),
});
export type CsatSurvey = z.infer<typeof CsatSurvey>;

/** A conversation's surveys, oldest first (the actor must be allowed to see the conversation). */
export const GetConversationCsatV1 = defineRequest({
  subject: 'routing.get-conversation-csat.v1',
  service: 'routing',
  request: z.object({ actor: Actor, conversationId: z.string().uuid() }),
  response: z.object({ items: z.array(CsatSurvey) }),
  timeoutMs: 2_000,
});

/**
 * Ingest recognised a customer message as a CSAT answer (a survey row picked: `rating`; or the free-text comment
 * after it: `comment`). Such a message is stored in the thread but is not a customer message for anyone else: it
 * publishes no `message.received`, reopens nothing and does not move the 24 h window.
 */
export const CsatAnsweredV1 = defineEvent({
  subject: 'inbox.csat.answered.v1',
  stream: 'INBOX_EVENTS',
  schema: z.object({
    ...eventBase,
    conversationId: z.string().uuid(),
    phoneNumberId: z.string(),
    messageId: z.string().uuid(),
    surveyId: z.string().uuid(),
    rating: z.number().int().min(1).max(5).nullable(),
    comment: z.string().max(4096).nullable(),
    /** The customer's time (WhatsApp timestamp). */
    answeredAt: z.string(),
  }),
});

/** A survey's state after it was sent, rated or commented (routing's outbox); the newest `version` wins. */
export const CsatRecordedV1 = defineEvent({
  subject: 'inbox.csat.recorded.v1',
  stream: 'INBOX_EVENTS',
  schema: z.object({
    ...eventBase,
    surveyId: z.string().uuid(),
    conversationId: z.string().uuid(),
    phoneNumberId: z.string(),
    teamId: z.string().uuid().nullable(),
    agentId: z.string().uuid().nullable(),
    sentAt: z.string(),
    rating: z.number().int().min(1).max(5).nullable(),
    ratedAt: z.string().nullable(),
    comment: z.string().nullable(),
    version: z.number().int(),
  }),
});

/**
 * The settings behind a routing replica's in-memory copy (`copy`: which one — automation rules, greeting/away
 * replies) changed: every other routing replica drops its copy. Ephemeral: over core NATS (or the embedded hub)
 * between routing replicas only, never stored.
 */
export const RoutingCopyChangedPushV1 = {
  subject: 'push.routing.copy-changed.v1',
  schema: z.object({ copy: z.string() }),
};
