import { z } from 'zod';
import { defineEvent, eventBase } from '../define';
import { WorkState } from './routing.requests';

const actorRef = z.object({ type: z.string(), id: z.string().nullable(), name: z.string().nullable() });

/** The owner and/or team of a conversation changed (claim, assign, handoff, takeover, reply-claim). */
export const ConversationAssignedV1 = defineEvent({
  subject: 'inbox.conversation.assigned.v1',
  stream: 'INBOX_EVENTS',
  schema: z.object({
    ...eventBase,
    conversationId: z.string().uuid(),
    /** route = the routing rules/strategy chose the owner; requeue/reassign = the system took it back. */
    reason: z.enum(['claim', 'assign', 'handoff', 'takeover', 'reply', 'route', 'requeue', 'reassign']),
    teamId: z.string().uuid().nullable(),
    ownerId: z.string().uuid().nullable(),
    previousTeamId: z.string().uuid().nullable(),
    previousOwnerId: z.string().uuid().nullable(),
    /** The handoff note, for the receiver to see first. */
    note: z.string().nullable(),
    actor: actorRef,
    version: z.number().int(),
  }),
});

/** Any change of a conversation's work state, with the state after it (real-time feed, SLA). */
export const ConversationWorkChangedV1 = defineEvent({
  subject: 'inbox.conversation.work-changed.v1',
  stream: 'INBOX_EVENTS',
  schema: z.object({ ...eventBase, action: z.string(), actor: actorRef, state: WorkState }),
});

/** An internal note was added; `mentions` are the users to notify. The body is not carried. */
export const NoteAddedV1 = defineEvent({
  subject: 'inbox.note.added.v1',
  stream: 'INBOX_EVENTS',
  schema: z.object({
    ...eventBase,
    conversationId: z.string().uuid(),
    teamId: z.string().uuid().nullable(),
    noteId: z.string().uuid(),
    author: actorRef,
    mentions: z.array(z.string().uuid()),
  }),
});

/**
 * The gateway changed a person, team or API key (written to its outbox with the change). Routing appends it to
 * the audit trail, so one trail holds conversation and administration changes. Never carries secrets.
 */
export const DirectoryChangedV1 = defineEvent({
  subject: 'inbox.directory.changed.v1',
  stream: 'INBOX_EVENTS',
  schema: z.object({
    ...eventBase,
    actor: actorRef,
    action: z.string(), // user.created, user.updated, team.created, team.renamed, api-key.created, api-key.revoked, label.created|updated|deleted, contact.updated|blocked|unblocked|merged|erased (from ingest)
    entityType: z.enum(['user', 'team', 'api_key', 'label', 'meta_app', 'waba', 'phone_number', 'event_subscription', 'contact']),
    entityId: z.string().uuid(),
    before: z.record(z.unknown()).nullable(),
    after: z.record(z.unknown()).nullable(),
  }),
});
