/** Shapes of the gateway's API as the client uses them (see /api/docs). Fields added later are optional. */
export type Role = 'admin' | 'manager' | 'agent' | 'viewer';
export type WorkStatus = 'open' | 'pending' | 'snoozed' | 'resolved';
export type Priority = 'low' | 'normal' | 'high' | 'urgent';
export const WORK_STATUSES: WorkStatus[] = ['open', 'pending', 'snoozed', 'resolved'];
export const PRIORITIES: Priority[] = ['low', 'normal', 'high', 'urgent'];

export interface Me {
  kind: 'user' | 'api_key' | 'bot';
  id: string;
  name: string;
  email: string | null;
  role: Role;
  teamIds: string[];
  scopes: string[];
}

export interface NamedRef {
  id: string;
  name: string | null;
}

/** One SLA clock (sla service, issue 7). */
export interface SlaClock {
  startedAt: string;
  dueAt: string | null; // null while paused
  warnAt: string | null;
  state: 'ok' | 'warning' | 'breached' | 'met';
  paused: boolean;
  breachedAt: string | null;
  metAt: string | null;
}

/** A conversation's SLA clocks; `null` when sla is not running or did not answer in time. */
export interface SlaState {
  firstResponse: SlaClock | null;
  nextResponse: SlaClock | null;
  resolution: SlaClock | null;
}

export interface Conversation {
  id: string;
  version: number;
  status: WorkStatus;
  snoozeUntil: string | null;
  priority: Priority;
  labels: string[];
  owner: NamedRef | null;
  team: NamedRef | null;
  /** The integrator's bot holding the conversation (nobody owns it; routing and SLA wait), else null. */
  bot?: { id: string; name: string | null; since: string } | null;
  phoneNumberId: string;
  contact: { id: string; name: string | null; waId: string | null; userId: string | null; blocked?: boolean };
  lastMessageAt: string | null;
  lastInboundAt: string | null;
  lastMessageText: string | null;
  messageCount: number | null;
  window: { open: boolean; endsAt: string | null };
  openedAt: string;
  resolvedAt: string | null;
  updatedAt: string;
  sla?: SlaState | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface MessageView {
  id: string;
  conversationId: string;
  waMessageId: string | null;
  direction: 'inbound' | 'outbound';
  origin: string;
  type: string;
  text: string;
  content: unknown;
  status: string | null;
  errors: unknown[];
  contextWaMessageId: string | null;
  contextMessageId: string | null;
  forwarded: boolean;
  media: { mediaId: string; mimeType: string | null; size: number | null; sha256: string | null; state: string; url: string | null } | null;
  sentAt: string;
  createdAt: string;
  statusUpdatedAt: string | null;
  referral?: unknown;
}

export interface ActorRef {
  type: string;
  id: string | null;
  name: string | null;
}

export interface Note {
  id: string;
  conversationId: string;
  author: ActorRef;
  body: string;
  mentions: string[];
  createdAt: string;
}

export interface AuditEntry {
  id: string;
  seq: string;
  conversationId: string | null;
  teamId: string | null;
  actor: ActorRef;
  action: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  note: string | null;
  createdAt: string;
}

export type TimelineItem =
  | { kind: 'message'; at: string; message: MessageView }
  | { kind: 'note'; at: string; note: Note }
  | { kind: 'event'; at: string; event: AuditEntry };

export interface Timeline {
  items: TimelineItem[];
  moreMessages: boolean;
  olderCursor?: string | null;
}

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  teamIds: string[];
  disabled: boolean;
  createdAt: string;
}

export interface Team {
  id: string;
  name: string;
  memberCount: number;
  createdAt: string;
}

export interface Label {
  id: string;
  name: string;
  color: string;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface WebConfig {
  demo: { password: string; users: { email: string; name: string; role: Role }[] } | null;
  /** the local WhatsApp sandbox's customer page (demo only) */
  sandboxUrl?: string | null;
}

export interface ReplyResult {
  sendId: string;
  status: 'queued' | 'sent' | 'failed';
  waMessageId: string | null;
  duplicate: boolean;
  claimed: boolean;
  version: number;
}
