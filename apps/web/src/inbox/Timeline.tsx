import { useEffect, useState } from 'react';
import { raw } from '../lib/api';
import { userName, teamName, type Directory } from '../lib/context';
import { bytes, dateTime, timeOf } from '../lib/format';
import type { AuditEntry, MessageView, TimelineItem } from '../lib/types';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
/** The media object of a message: inbound content is the type's object; an outbound one is the Graph body (`{image: {…}}`). */
const mediaOf = (m: { type: string; direction: string; content: unknown }): Obj => {
  const c = obj(m.content);
  return m.direction === 'outbound' && Object.keys(obj(c[m.type])).length ? obj(c[m.type]) : c;
};
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** Every entry of a conversation: messages of every type, internal notes, and system events, oldest first. */
export function TimelineList({ items, dir }: { items: TimelineItem[]; dir: Directory }) {
  const byWamid = new Map<string, MessageView>();
  const byId = new Map<string, MessageView>();
  for (const i of items)
    if (i.kind === 'message') {
      byId.set(i.message.id, i.message);
      if (i.message.waMessageId) byWamid.set(i.message.waMessageId, i.message);
    }
  // a handoff's note is also stored as a note: show it once, as the note
  const noteBodies = new Set(items.flatMap((i) => (i.kind === 'note' ? [i.note.body] : [])));
  const handoffNotes = new Set(items.flatMap((i) => (i.kind === 'event' && i.event.note ? [i.event.note] : [])));
  let lastDay = '';
  return (
    <ol className="timeline" aria-label="Conversation timeline">
      {items.map((i) => {
        if (i.kind === 'event' && i.event.action.startsWith('note')) return null; // the note itself is shown
        const day = new Date(i.at).toDateString();
        const divider = day !== lastDay ? (lastDay = day) : null;
        const key = i.kind === 'message' ? i.message.id : i.kind === 'note' ? i.note.id : i.event.id;
        return (
          <li key={`${i.kind}-${key}`} className={`tl tl-${i.kind}`}>
            {divider && <div className="day">{new Date(i.at).toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long' })}</div>}
            {i.kind === 'message' && <MessageBubble m={i.message} quoted={quotedOf(i.message, byId, byWamid)} />}
            {i.kind === 'note' && (
              <div className="note" role="note" aria-label="Internal note">
                <div className="note-head">
                  <span>
                    {handoffNotes.has(i.note.body) ? (i.note.author.type === 'bot' ? '↪ Bot handover summary' : '↪ Handoff note') : 'Internal note'} ·{' '}
                    {i.note.author.name ?? 'someone'}
                  </span>
                  <time dateTime={i.note.createdAt}>{timeOf(i.note.createdAt)}</time>
                </div>
                <p className="body">{i.note.body}</p>
                {i.note.mentions.length > 0 && <p className="muted small">Mentions: {i.note.mentions.map((m) => userName(dir, m)).join(', ')}</p>}
              </div>
            )}
            {i.kind === 'event' && <SystemEvent e={i.event} dir={dir} showNote={!!i.event.note && !noteBodies.has(i.event.note)} />}
          </li>
        );
      })}
    </ol>
  );
}

function quotedOf(m: MessageView, byId: Map<string, MessageView>, byWamid: Map<string, MessageView>): MessageView | null | undefined {
  if (m.type === 'reaction') return undefined;
  if (m.contextMessageId) return byId.get(m.contextMessageId) ?? null;
  if (m.contextWaMessageId) return byWamid.get(m.contextWaMessageId) ?? null;
  return undefined;
}

const TICKS: Record<string, { glyph: string; label: string }> = {
  queued: { glyph: '🕓', label: 'Queued' },
  sent: { glyph: '✓', label: 'Sent' },
  delivered: { glyph: '✓✓', label: 'Delivered' },
  read: { glyph: '✓✓', label: 'Read' },
  played: { glyph: '✓✓', label: 'Played' },
  failed: { glyph: '⚠', label: 'Not delivered' },
};

/** Meta's error for a failed send, in words. */
export function failureText(errors: unknown[]): string {
  const e = obj(errors[0]);
  const code = e.code !== undefined && e.code !== null ? ` (code ${str(e.code)})` : '';
  const what = str(e.details) || str(e.title) || str(e.message) || 'WhatsApp did not accept this message';
  return `${what}${code}`;
}

export function MessageBubble({ m, quoted }: { m: MessageView; quoted?: MessageView | null }) {
  const out = m.direction === 'outbound';
  const tick = out && m.status ? TICKS[m.status] : undefined;
  return (
    <div className={`msg ${out ? 'out' : 'in'}${m.status === 'failed' ? ' failed' : ''}`} data-message-id={m.id}>
      {m.forwarded && <div className="muted small">↪ Forwarded</div>}
      {quoted !== undefined && (
        <blockquote className="quoted">{quoted ? `${quoted.direction === 'inbound' ? 'Customer' : 'You'}: ${quoted.text}` : 'Reply to an earlier message'}</blockquote>
      )}
      <MessageBody m={m} />
      <div className="msg-foot">
        {m.origin === 'echo' && <span className="muted small">sent from the phone · </span>}
        <time dateTime={m.sentAt} title={dateTime(m.sentAt)}>
          {timeOf(m.sentAt)}
        </time>
        {tick && (
          <span className={`tick tick-${m.status}`} title={tick.label} aria-label={tick.label}>
            {' '}
            {tick.glyph}
          </span>
        )}
      </div>
      {m.status === 'failed' && (
        <p className="fail-reason" role="note">
          Not delivered: {failureText(m.errors)}
        </p>
      )}
    </div>
  );
}

/** The body of a message by WhatsApp type. Everything is rendered as text by React (no HTML from the data). */
export function MessageBody({ m }: { m: MessageView }) {
  const c = obj(m.content);
  switch (m.type) {
    case 'text':
      return <p className="body">{str(c.body) || m.text}</p>;
    case 'image':
    case 'sticker':
    case 'video':
    case 'audio':
    case 'document':
      return (
        <div className="media-msg">
          <Media m={m} />
          {str(mediaOf(m).caption) && <p className="body">{str(mediaOf(m).caption)}</p>}
        </div>
      );
    case 'location': {
      const lat = Number(c.latitude);
      const lng = Number(c.longitude);
      return (
        <div className="location">
          <strong>{str(c.name) || 'Location'}</strong>
          {str(c.address) && <div>{str(c.address)}</div>}
          {Number.isFinite(lat) && Number.isFinite(lng) && (
            <a href={`https://www.openstreetmap.org/?mlat=${lat}&mlon=${lng}#map=16/${lat}/${lng}`} target="_blank" rel="noreferrer noopener">
              {lat.toFixed(5)}, {lng.toFixed(5)}
            </a>
          )}
        </div>
      );
    }
    case 'contacts': {
      const list = Array.isArray(m.content) ? (m.content as Obj[]) : [];
      return (
        <ul className="contacts-card">
          {list.map((ct, i) => (
            <li key={i}>
              <strong>{str(obj(ct.name).formatted_name) || 'Contact'}</strong>
              {Array.isArray(ct.phones) && (ct.phones as Obj[]).map((p, j) => <div key={j}>{str(p.phone) || str(p.wa_id)}</div>)}
            </li>
          ))}
        </ul>
      );
    }
    case 'interactive': {
      const reply = obj(c.button_reply ?? c.list_reply ?? c.nfm_reply);
      return (
        <p className="body">
          <span className="chip">{c.type === 'list_reply' ? 'Chose from list' : c.type === 'nfm_reply' ? 'Form reply' : 'Tapped button'}</span> {str(reply.title) || str(reply.body) || m.text}
          {str(reply.description) && <span className="muted"> — {str(reply.description)}</span>}
        </p>
      );
    }
    case 'button':
      return (
        <p className="body">
          <span className="chip">Tapped button</span> {str(c.text) || m.text}
        </p>
      );
    case 'reaction':
      return <p className="body reaction">{str(c.emoji) ? <span>Reacted {str(c.emoji)}</span> : <span className="muted">Removed a reaction</span>}</p>;
    case 'template':
      return (
        <p className="body">
          <span className="chip">Template</span> {m.text}
        </p>
      );
    default:
      return <p className="body">{m.text || `[${m.type}]`}</p>;
  }
}

/** Media are fetched with the session (the link needs the token) and shown from a blob URL. */
function Media({ m }: { m: MessageView }) {
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const c = mediaOf(m);
  const mime = m.media?.mimeType ?? str(c.mime_type);
  const fetchable = m.media !== null && m.media.state !== 'failed';
  useEffect(() => {
    if (!fetchable || m.type === 'document') return;
    let revoked = false;
    let objectUrl: string | null = null;
    raw(`/api/v1/media/${m.id}`)
      .then((r) => r.blob())
      .then((b) => {
        if (revoked) return;
        objectUrl = URL.createObjectURL(b);
        setUrl(objectUrl);
      })
      .catch((e) => setFailed(e instanceof Error ? e.message : 'unavailable'));
    return () => {
      revoked = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [m.id, fetchable, m.type]);

  const label = m.type === 'document' ? str(c.filename) || 'Document' : m.type;
  if (!fetchable || failed)
    return (
      <p className="muted">
        [{label}] {failed ? `not available: ${failed}` : m.media ? 'could not be downloaded from WhatsApp' : 'still downloading…'}
      </p>
    );
  if (m.type === 'document')
    return (
      <button
        className="doc"
        onClick={async () => {
          const b = await (await raw(`/api/v1/media/${m.id}`)).blob();
          const a = document.createElement('a');
          a.href = URL.createObjectURL(b);
          a.download = str(c.filename) || 'document';
          a.click();
          setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
        }}
      >
        ⤓ {label} <span className="muted small">{[mime, bytes(m.media?.size)].filter(Boolean).join(' · ')}</span>
      </button>
    );
  if (!url) return <div className="media-loading muted">Loading {m.type}…</div>;
  if (m.type === 'image' || m.type === 'sticker') return <img className="media" src={url} alt={str(c.caption) || (m.direction === 'outbound' ? `${m.type} sent to the customer` : `${m.type} from the customer`)} />;
  if (m.type === 'video') return <video className="media" src={url} controls />;
  return <audio src={url} controls aria-label={c.voice ? 'Voice message' : 'Audio'} />;
}

/** An audit entry in words: who did what (owner, team, status, priority, labels). */
export function describeEvent(e: AuditEntry, dir: Directory): string {
  const who = e.actor.name ?? (e.actor.type === 'system' ? 'Switchboard' : 'Someone');
  const b = e.before ?? {};
  const a = e.after ?? {};
  const verb = e.action.replace(/^conversation\./, '');
  if (e.action.startsWith('sla.')) {
    const target = { firstResponse: 'First response', nextResponse: 'Next response', resolution: 'Resolution' }[String(a.target)] ?? 'SLA';
    const level = e.action.slice(4);
    return `${target} SLA ${level === 'warning' ? 'at risk' : level === 'breach' || level === 'breached' ? 'breached' : level.replace(/[-_.]/g, ' ')}`;
  }
  if (e.action.startsWith('csat.')) {
    const agent = a.agentId ? ` (${userName(dir, a.agentId as string)})` : '';
    if (e.action === 'csat.sent') return 'Satisfaction survey sent to the customer';
    if (e.action === 'csat.rated') return `The customer rated the conversation ${str(a.rating)}/5${agent}`;
    if (e.action === 'csat.commented') return `The customer added a comment to their ${str(a.rating)}/5 rating`;
    if (e.action === 'csat.not-sent') return 'Satisfaction survey not sent';
  }
  if (e.action === 'automation.message.sent') {
    // a rule's or macro's message to the customer (the message itself is in the thread)
    const what = a.type === 'sendCanned' ? 'a canned reply' : a.type === 'template' ? `template ${str((a.template as { name?: string } | undefined)?.name)}` : 'a reply';
    const macro = (a.macro as { name?: string } | undefined)?.name;
    return macro ? `${who} sent ${what} with the macro “${macro}”` : `${who} sent ${what} to the customer`;
  }
  if (verb === 'bot-held') {
    // held by the bot itself, or by routing for a number whose conversations go to a bot first
    const bot = (a.bot as { name?: string | null } | null | undefined)?.name ?? who;
    return `Bot ${bot} is handling the conversation (routing and SLA wait)`;
  }
  if (verb === 'bot-released') return `The bot's API key was revoked: the conversation went back to ${teamName(dir, a.teamId as string | null)}'s queue`;
  if (verb === 'bot-handover') return `Bot ${who} handed the conversation over to ${teamName(dir, a.teamId as string | null)}`;
  if (verb === 'bot-taken-back') {
    const bot = (b.bot as { name?: string | null } | null | undefined)?.name;
    return `${who} took the conversation back from ${bot ? `bot ${bot}` : 'the bot'}`;
  }
  if (verb === 'opened') return 'Conversation opened';
  if (verb === 'reopened') return 'The customer wrote again: conversation reopened';
  if (verb === 'customer-replied') return 'The customer wrote: back to open';
  if (verb === 'snooze-ended') return 'Snooze ended: back to open';
  const parts: string[] = [];
  if ('ownerId' in a && a.ownerId !== b.ownerId)
    parts.push(
      verb === 'claimed' || (a.ownerId && a.ownerId === e.actor.id && !b.ownerId)
        ? 'claimed the conversation'
        : verb === 'takeover'
          ? `took over from ${userName(dir, b.ownerId as string)}`
          : a.ownerId
            ? `${verb === 'handoff' || verb === 'handed-off' ? 'handed off to' : 'assigned it to'} ${userName(dir, a.ownerId as string)}`
            : 'unassigned the owner',
    );
  if ('teamId' in a && a.teamId !== b.teamId) parts.push(`moved it to ${teamName(dir, a.teamId as string | null)}`);
  if ('status' in a && a.status !== b.status)
    parts.push(a.status === 'snoozed' && a.snoozeUntil ? `snoozed it until ${dateTime(a.snoozeUntil as string)}` : `set the status to ${String(a.status)}`);
  if ('priority' in a && a.priority !== b.priority) parts.push(`set the priority to ${String(a.priority)}`);
  if ('labels' in a && JSON.stringify(a.labels) !== JSON.stringify(b.labels)) {
    const before = new Set((b.labels as string[]) ?? []);
    const after = new Set((a.labels as string[]) ?? []);
    const added = [...after].filter((l) => !before.has(l));
    const removed = [...before].filter((l) => !after.has(l));
    if (added.length) parts.push(`added label ${added.join(', ')}`);
    if (removed.length) parts.push(`removed label ${removed.join(', ')}`);
  }
  return `${who} ${parts.length ? parts.join(', ') : verb.replace(/[-_.]/g, ' ')}`;
}

function SystemEvent({ e, dir, showNote }: { e: AuditEntry; dir: Directory; showNote: boolean }) {
  return (
    <div className={`event ${e.note ? 'with-note' : ''}`}>
      <span>{describeEvent(e, dir)}</span> · <time dateTime={e.createdAt}>{timeOf(e.createdAt)}</time>
      {showNote &&
        (e.action.includes('handoff') ? (
          <p className="handoff-note">
            <strong>Handoff note:</strong> {e.note}
          </p>
        ) : (
          <p className="muted small">{e.note}</p>
        ))}
    </div>
  );
}
