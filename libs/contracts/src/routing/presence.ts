import { z } from 'zod';

/**
 * "X is viewing / typing" on a conversation: ephemeral, over core NATS between gateway replicas (no stream,
 * nothing stored, lost when nobody listens). Each replica forwards it to its clients that may see the conversation.
 */
export const PRESENCE_STATES = ['viewing', 'typing', 'left'] as const;
export const ConversationPresenceV1 = {
  subject: 'presence.conversation.v1',
  schema: z.object({
    conversationId: z.string().uuid(),
    teamId: z.string().uuid().nullable(),
    ownerId: z.string().uuid().nullable(),
    user: z.object({ id: z.string(), name: z.string().nullable() }),
    state: z.enum(PRESENCE_STATES),
    at: z.string(),
    /** The socket it came from (not echoed back to it). */
    origin: z.string(),
  }),
};
