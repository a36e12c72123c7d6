/** What the normaliser makes of one webhook receipt: one item per message, status, error list or other field. */

export interface WaError {
  code: number | null;
  title: string | null;
  message: string | null;
  details: string | null;
  href: string | null;
}

export interface NumberRef {
  phoneNumberId: string;
  displayPhoneNumber: string | null;
  wabaId: string | null;
}

export interface ContactRef {
  waId: string | null;
  userId: string | null;
  parentUserId: string | null;
  name: string | null;
  username: string | null;
}

export interface MessageContext {
  from: string | null;
  id: string | null;
  forwarded: boolean;
  frequentlyForwarded: boolean;
  referredProduct: unknown;
}

export interface MediaRef {
  mediaId: string;
  mimeType: string | null;
  sha256: string | null;
}

export interface SystemChange {
  type: string;
  /** user_changed_number: the new phone number. */
  newWaId: string | null;
  /** user_changed_user_id: the new BSUID. */
  newUserId: string | null;
}

export interface NormalizedMessage {
  kind: 'message';
  path: string;
  number: NumberRef;
  contact: ContactRef;
  direction: 'inbound' | 'outbound';
  /** customer = sent by the customer; echo = typed in the WhatsApp Business app (coexistence); system = WhatsApp. */
  origin: 'customer' | 'echo' | 'system';
  waMessageId: string;
  /** WhatsApp's type, or `unsupported` for a type we do not know (the original is kept in content). */
  type: string;
  text: string;
  /** The type-specific object, whole. */
  content: unknown;
  referral: unknown;
  context: MessageContext | null;
  /** The wamid this message refers to (quoted reply, reaction target, edited/deleted message). */
  contextWaMessageId: string | null;
  errors: WaError[];
  sentAt: Date;
  media: MediaRef | null;
  system: SystemChange | null;
}

export interface NormalizedStatus {
  kind: 'status';
  path: string;
  number: NumberRef;
  waMessageId: string;
  status: string;
  statusAt: Date;
  errors: WaError[];
  recipient: ContactRef;
  raw: unknown;
}

export interface NormalizedAccountEvent {
  kind: 'account';
  path: string;
  field: string;
  wabaId: string | null;
  number: NumberRef | null;
  value: unknown;
  /** Stable across re-deliveries of the same change (Meta retries create new receipts). */
  dedupeKey: string;
}

export type NormalizedItem = NormalizedMessage | NormalizedStatus | NormalizedAccountEvent;

export interface Rejection {
  path: string;
  reason: string;
  item: unknown;
}

export interface NormalizedReceipt {
  items: NormalizedItem[];
  rejected: Rejection[];
}
