import {
  ConversationAssignedV1,
  ConversationWorkChangedV1,
  CsatAnsweredV1,
  CsatRecordedV1,
  MessageReceivedV1,
  MessageStatusChangedV1,
  NoteAddedV1,
  OutboundFailedV1,
  OutboundQueuedV1,
  OutboundSentV1,
  type EventContract,
  type NoticeView,
} from '@app/contracts';

/** What a client receives for each JetStream event it may see (`event` is the name on the socket). */
export const CLIENT_EVENTS: { contract: EventContract; event: string }[] = [
  { contract: ConversationWorkChangedV1, event: 'conversation.updated' },
  { contract: ConversationAssignedV1, event: 'conversation.assigned' },
  { contract: MessageReceivedV1, event: 'message.created' },
  { contract: MessageStatusChangedV1, event: 'message.status' },
  { contract: OutboundQueuedV1, event: 'message.queued' },
  { contract: OutboundSentV1, event: 'message.sent' },
  { contract: OutboundFailedV1, event: 'message.failed' },
  { contract: NoteAddedV1, event: 'note.created' },
  // a CSAT answer is stored in the thread without message.received (it is nobody's customer message)
  { contract: CsatAnsweredV1, event: 'csat.answered' },
  { contract: CsatRecordedV1, event: 'csat.recorded' },
];

/** Server → client frames. `seq` is the JetStream sequence: reconnect with `?since=<seq>` to catch up. */
export type ServerFrame =
  | { type: 'ready'; cursor: number; user: { id: string; role: string } }
  | { type: 'event'; seq: number; event: string; conversationId: string | null; data: unknown }
  | { type: 'replayed'; cursor: number }
  | { type: 'presence'; conversationId: string; user: { id: string; name: string | null }; state: string; at: string }
  | { type: 'notice'; notice: NoticeView } // to its recipient only (see notices/)
  // to admins and the managers of these teams (see reports/); a hint to refetch GET /api/v1/dashboard
  | { type: 'dashboard.changed'; teamIds: string[]; agentIds: string[]; cause: string; at: string }
  | { type: 'error'; message: string };
