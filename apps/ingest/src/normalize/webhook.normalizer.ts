import { createHash } from 'node:crypto';
import type {
  ContactRef,
  MediaRef,
  MessageContext,
  NormalizedAccountEvent,
  NormalizedItem,
  NormalizedMessage,
  NormalizedReceipt,
  NormalizedStatus,
  NumberRef,
  Rejection,
  SystemChange,
  WaError,
} from './normalized.types';

/**
 * Pure mapping from a raw WhatsApp webhook body to normalised items. Liberal: it walks every
 * entry × change × (messages | statuses | errors | message_echoes | other field) and turns each into an item,
 * or a rejection with its JSON path and reason. It never throws.
 */

type Obj = Record<string, unknown>;

const MEDIA_TYPES = new Set(['image', 'audio', 'video', 'document', 'sticker']);
/** Message types we map; anything else is stored as `unsupported` with the original kept. */
const KNOWN_TYPES = new Set([
  'text', 'image', 'audio', 'video', 'document', 'sticker', 'location', 'contacts', 'interactive', 'button',
  'reaction', 'order', 'system', 'unsupported', 'unknown', 'edit', 'revoke',
]);

export class ItemRejected extends Error {}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' ? String(v) : null);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Unix seconds as string or number → Date; null when absent or not a number. */
export function parseWaTimestamp(v: unknown): Date | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n) || n <= 0) return null;
  const d = new Date(Math.round(n * 1000));
  return Number.isNaN(d.getTime()) ? null : d; // past the year 275760: not a date (the database refused it)
}

export function normalizeError(e: unknown): WaError {
  const o = isObj(e) ? e : {};
  const data = isObj(o.error_data) ? o.error_data : {};
  const code = typeof o.code === 'number' ? o.code : typeof o.code === 'string' && /^\d+$/.test(o.code) ? Number(o.code) : null;
  return { code, title: str(o.title), message: str(o.message), details: str(data.details), href: str(o.href) };
}

function hash(...parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/**
 * PostgreSQL text and jsonb cannot hold U+0000 or an unpaired UTF-16 surrogate (valid JSON escapes both): each
 * becomes U+FFFD, in values and keys, so the rest of the message is stored instead of the item failing forever
 * (found by the webhook fuzzer).
 */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const storable = (s: string): string => s.replace(UNSTORABLE, '\ufffd');
function storableReviver(_key: string, v: unknown): unknown {
  if (typeof v === 'string') return storable(v);
  if (isObj(v)) {
    for (const k of Object.keys(v)) {
      const clean = storable(k);
      if (clean !== k) {
        v[clean] = v[k];
        delete v[k];
      }
    }
  }
  return v;
}

export function normalizeWebhook(rawBody: string, receivedAt: Date): NormalizedReceipt {
  const items: NormalizedItem[] = [];
  const rejected: Rejection[] = [];
  let body: unknown;
  try {
    body = JSON.parse(rawBody, storableReviver);
  } catch {
    return { items, rejected: [{ path: '$', reason: 'body is not JSON', item: null }] };
  }
  if (!isObj(body)) return { items, rejected: [{ path: '$', reason: 'body is not a JSON object', item: null }] };
  if (body.object !== 'whatsapp_business_account') {
    return { items, rejected: [{ path: '$.object', reason: `object is ${JSON.stringify(body.object ?? null)}, not whatsapp_business_account`, item: null }] };
  }
  if (!Array.isArray(body.entry)) return { items, rejected: [{ path: '$.entry', reason: 'entry is not an array', item: null }] };

  body.entry.forEach((entry, i) => {
    const ePath = `entry[${i}]`;
    if (!isObj(entry)) return rejected.push({ path: ePath, reason: 'entry is not an object', item: entry });
    const wabaId = str(entry.id);
    if (!Array.isArray(entry.changes)) return rejected.push({ path: `${ePath}.changes`, reason: 'changes is not an array', item: null });
    entry.changes.forEach((change, j) => {
      const cPath = `${ePath}.changes[${j}]`;
      try {
        normalizeChange(change, cPath, wabaId, entry.time, receivedAt, items, rejected);
      } catch (err) {
        rejected.push({ path: cPath, reason: (err as Error).message, item: change });
      }
    });
  });
  return { items, rejected };
}

function numberOf(value: Obj, wabaId: string | null): NumberRef | null {
  const md = isObj(value.metadata) ? value.metadata : null;
  const id = md ? str(md.phone_number_id) : null;
  if (!id) return null;
  return { phoneNumberId: id, displayPhoneNumber: md ? str(md.display_phone_number) : null, wabaId };
}

function normalizeChange(
  change: unknown,
  path: string,
  wabaId: string | null,
  entryTime: unknown,
  receivedAt: Date,
  items: NormalizedItem[],
  rejected: Rejection[],
): void {
  if (!isObj(change)) throw new ItemRejected('change is not an object');
  const field = str(change.field);
  if (!field) throw new ItemRejected('change has no field');
  const value = isObj(change.value) ? change.value : null;
  if (!value) throw new ItemRejected('change has no value object');
  const number = numberOf(value, wabaId);
  const vPath = `${path}.value`;

  const each = (list: unknown, listPath: string, fn: (item: unknown, p: string) => NormalizedItem) => {
    arr(list).forEach((item, k) => {
      const p = `${listPath}[${k}]`;
      try {
        items.push(fn(item, p));
      } catch (err) {
        rejected.push({ path: p, reason: (err as Error).message, item });
      }
    });
  };

  if (field === 'messages' || field === 'smb_message_echoes') {
    const contacts = arr(value.contacts).filter(isObj);
    const needNumber = () => {
      if (!number) throw new ItemRejected('change has no value.metadata.phone_number_id');
      return number;
    };
    if (field === 'messages') {
      each(value.messages, `${vPath}.messages`, (m, p) => normalizeMessage(m, p, needNumber(), contacts, receivedAt, false));
      each(value.statuses, `${vPath}.statuses`, (s, p) => normalizeStatus(s, p, needNumber(), contacts, receivedAt));
    } else {
      each(value.message_echoes, `${vPath}.message_echoes`, (m, p) => normalizeMessage(m, p, needNumber(), contacts, receivedAt, true));
    }
    if (Array.isArray(value.errors) && value.errors.length > 0) {
      items.push({
        kind: 'account', path: `${vPath}.errors`, field: 'errors', wabaId, number,
        value: { errors: value.errors.map(normalizeError), raw: value.errors },
        dedupeKey: hash('errors', wabaId, number?.phoneNumberId ?? null, value.errors),
      });
    }
    return;
  }
  const event: NormalizedAccountEvent = {
    kind: 'account', path: vPath, field, wabaId, number, value,
    dedupeKey: hash(field, wabaId, entryTime ?? null, value),
  };
  items.push(event);
}

function contactFor(contacts: Obj[], waId: string | null, userId: string | null): Obj | null {
  const match = contacts.find((c) => (userId && str(c.user_id) === userId) || (waId && str(c.wa_id) === waId));
  if (match) return match;
  return contacts.length === 1 ? contacts[0] : null;
}

function contactRef(c: Obj | null, waId: string | null, userId: string | null, parentUserId: string | null): ContactRef {
  const profile = c && isObj(c.profile) ? c.profile : {};
  return {
    waId: waId ?? (c ? str(c.wa_id) : null),
    userId: userId ?? (c ? str(c.user_id) : null),
    parentUserId: parentUserId ?? (c ? str(c.parent_user_id) : null),
    name: str(profile.name),
    username: str(profile.username),
  };
}

function normalizeMessage(
  m: unknown,
  path: string,
  number: NumberRef,
  contacts: Obj[],
  receivedAt: Date,
  echo: boolean,
): NormalizedMessage {
  if (!isObj(m)) throw new ItemRejected('message is not an object');
  const id = str(m.id);
  if (!id) throw new ItemRejected('message has no id');
  const waType = str(m.type) ?? 'unknown';

  // the customer: the sender of an inbound message, the recipient of an echo
  const waId = echo ? str(m.to) : str(m.from);
  const userId = echo ? str(m.to_user_id) : str(m.from_user_id);
  const parentUserId = echo ? str(m.to_parent_user_id) : str(m.from_parent_user_id);
  const contact = contactRef(contactFor(contacts, waId, userId), waId, userId, parentUserId);
  if (!contact.waId && !contact.userId) throw new ItemRejected(echo ? 'echo has no recipient (to / to_user_id)' : 'message has no sender (from / from_user_id)');

  const known = KNOWN_TYPES.has(waType);
  const type = !known || waType === 'unknown' ? 'unsupported' : waType;
  const content = known && waType !== 'unknown' ? (m[waType] ?? null) : { type: waType, [waType]: m[waType] ?? null };
  if (known && MEDIA_TYPES.has(type) && !isObj(content)) throw new ItemRejected(`${type} message has no ${type} object`);

  const ctx = isObj(m.context) ? m.context : null;
  const context: MessageContext | null = ctx
    ? {
        from: str(ctx.from),
        id: str(ctx.id),
        forwarded: ctx.forwarded === true,
        frequentlyForwarded: ctx.frequently_forwarded === true,
        referredProduct: ctx.referred_product ?? null,
      }
    : null;
  const c = isObj(content) ? content : {};
  let contextWaMessageId = context?.id ?? null;
  if (type === 'reaction') contextWaMessageId = str(c.message_id) ?? contextWaMessageId;
  if (type === 'edit' || type === 'revoke') contextWaMessageId = str(c.original_message_id) ?? contextWaMessageId;

  let media: MediaRef | null = null;
  if (MEDIA_TYPES.has(type) && str(c.id)) media = { mediaId: str(c.id)!, mimeType: str(c.mime_type), sha256: str(c.sha256) };

  let system: SystemChange | null = null;
  if (type === 'system') {
    system = { type: str(c.type) ?? 'unknown', newWaId: str(c.wa_id) ?? str(c.new_wa_id), newUserId: str(c.user_id) ?? str(c.new_user_id) };
  }

  return {
    kind: 'message',
    path,
    number,
    contact,
    direction: echo ? 'outbound' : 'inbound',
    origin: echo ? 'echo' : type === 'system' ? 'system' : 'customer',
    waMessageId: id,
    type,
    text: renderText(type, content, waType),
    content,
    referral: m.referral ?? null,
    context,
    contextWaMessageId,
    errors: arr(m.errors).map(normalizeError),
    sentAt: parseWaTimestamp(m.timestamp) ?? receivedAt,
    media,
    system,
  };
}

function normalizeStatus(s: unknown, path: string, number: NumberRef, contacts: Obj[], receivedAt: Date): NormalizedStatus {
  if (!isObj(s)) throw new ItemRejected('status is not an object');
  const id = str(s.id);
  if (!id) throw new ItemRejected('status has no id');
  const status = str(s.status);
  if (!status) throw new ItemRejected('status has no status value');
  const waId = str(s.recipient_id);
  const userId = str(s.recipient_user_id);
  return {
    kind: 'status',
    path,
    number,
    waMessageId: id,
    status: status.toLowerCase(),
    statusAt: parseWaTimestamp(s.timestamp) ?? receivedAt,
    errors: arr(s.errors).map(normalizeError),
    recipient: contactRef(contactFor(contacts, waId, userId), waId, userId, str(s.parent_recipient_user_id)),
    raw: s,
  };
}

/** One line of text for lists and search. */
export function renderText(type: string, content: unknown, waType = type): string {
  const c = isObj(content) ? content : {};
  const withCaption = (label: string) => (str(c.caption) ? `${label} ${str(c.caption)}` : label);
  switch (type) {
    case 'text':
      return str(c.body) ?? '';
    case 'image':
      return withCaption('[Image]');
    case 'video':
      return withCaption('[Video]');
    case 'audio':
      return c.voice === true ? '[Voice message]' : '[Audio]';
    case 'sticker':
      return '[Sticker]';
    case 'document':
      return withCaption(str(c.filename) ? `[Document: ${str(c.filename)}]` : '[Document]');
    case 'location': {
      const label = [str(c.name), str(c.address)].filter(Boolean).join(', ');
      return label ? `[Location: ${label}]` : `[Location: ${c.latitude ?? '?'}, ${c.longitude ?? '?'}]`;
    }
    case 'contacts': {
      const names = arr(content).map((x) => (isObj(x) && isObj(x.name) ? str(x.name.formatted_name) ?? str(x.name.first_name) : null));
      return `[Contact: ${names.filter(Boolean).join(', ') || 'unnamed'}]`;
    }
    case 'interactive': {
      const kind = str(c.type) ?? '';
      const reply = isObj(c[kind]) ? (c[kind] as Obj) : {};
      if (kind === 'nfm_reply') return str(reply.body) ?? '[Form response]';
      return str(reply.title) ?? `[Interactive reply${kind ? `: ${kind}` : ''}]`;
    }
    case 'button':
      return str(c.text) ?? str(c.payload) ?? '[Button]';
    case 'reaction':
      return str(c.emoji) ? `[Reaction ${str(c.emoji)}]` : '[Reaction removed]';
    case 'order': {
      const n = arr(c.product_items).length;
      return `[Order: ${n} item${n === 1 ? '' : 's'}]${str(c.text) ? ` ${str(c.text)}` : ''}`;
    }
    case 'system':
      return str(c.body) ?? `[System: ${str(c.type) ?? 'update'}]`;
    case 'edit': {
      const inner = isObj(c.message) ? c.message : {};
      const innerType = str(inner.type) ?? 'text';
      return `[Edited] ${renderText(innerType, inner[innerType])}`;
    }
    case 'revoke':
      return '[Message deleted]';
    case 'unsupported': {
      const original = waType === 'unsupported' ? str(c.type) : waType === 'unknown' ? null : waType;
      return original ? `[Unsupported message: ${original}]` : '[Unsupported message]';
    }
    default:
      return `[${type}]`;
  }
}
