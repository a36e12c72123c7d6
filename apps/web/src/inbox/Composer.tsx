import { forwardRef, useEffect, useImperativeHandle, useRef, useState, type KeyboardEvent } from 'react';
import { api, ApiError, newKey } from '../lib/api';
import { useApp } from '../lib/context';
import { composerMode } from '../lib/permissions';
import type { Conversation, ReplyResult, User } from '../lib/types';
import { AttachmentPanel } from './Attachment';
import { QuickReplies, shortcutQuery, type Rendered } from './QuickReplies';
import { TemplatePicker, type TemplateChoice } from './TemplatePicker';

const EMOJI = ['👍', '🙏', '😊', '🙂', '👋', '✅', '🎉', '❤️', '😅', '🤔', '📦', '⏳'];

export interface ComposerHandle {
  focus(note?: boolean): void;
}

/**
 * The reply box. Only the owner can send; others see who owns the conversation and Claim / Take over (a bot's
 * conversation: who holds it and Take back). One
 * Idempotency-Key per draft, reused by every retry of that draft, and the button is locked while a send is in
 * flight, so a double click or a retry never sends twice. A stale-version 409 is explained and the view reloads.
 */
export const Composer = forwardRef<
  ComposerHandle,
  { conv: Conversation; onRefresh(): void; onClaim(): void; onTakeover(): void; onTakeBack?(): void; busy: boolean }
>(function Composer(
  { conv, onRefresh, onClaim, onTakeover, onTakeBack, busy },
  ref,
) {
  const { me, rt, dir, toast } = useApp();
  const [text, setText] = useState('');
  const [note, setNote] = useState(false);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [menu, setMenu] = useState<'emoji' | 'quick' | null>(null);
  const [missing, setMissing] = useState<string[]>([]);
  const [templates, setTemplates] = useState(false);
  const [attach, setAttach] = useState(false);
  const key = useRef(newKey());
  const inFlight = useRef(false);
  const area = useRef<HTMLTextAreaElement>(null);
  const typingSent = useRef(0);
  const typingTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const mode = composerMode(me, conv);
  const canType = note ? me.role !== 'viewer' : mode.mode === 'send';
  const windowClosed = !note && !conv.window.open;

  useImperativeHandle(ref, () => ({
    focus(asNote?: boolean) {
      if (asNote !== undefined) setNote(asNote);
      setTimeout(() => area.current?.focus(), 0);
    },
  }));

  useEffect(
    () => () => {
      if (typingTimer.current) clearTimeout(typingTimer.current);
    },
    [],
  );

  function onInput(v: string) {
    setText(v);
    setError(null);
    setMissing([]);
    if (note || !v) return;
    // others see "… is typing"; the customer sees WhatsApp's typing indicator (owner only, at most every 20 s)
    rt.setPresence(conv.id, 'typing');
    if (typingTimer.current) clearTimeout(typingTimer.current);
    typingTimer.current = setTimeout(() => rt.setPresence(conv.id, 'viewing'), 4000);
    if (mode.mode === 'send' && conv.window.open && Date.now() - typingSent.current > 20_000) {
      typingSent.current = Date.now();
      void api(`/api/v1/conversations/${conv.id}/read`, { method: 'POST', body: { typing: true } }).catch(() => undefined);
    }
  }

  /** Sends the draft, or (given) an approved template; both share the key, the lock and the error handling. */
  async function send(template?: TemplateChoice) {
    const body = text.trim();
    if (inFlight.current || (template ? mode.mode !== 'send' : !body || !canType || windowClosed)) return;
    inFlight.current = true;
    setSending(true);
    setError(null);
    try {
      if (note && !template) {
        const mentions = mentionIds(body, [...dir.users.values()]);
        await api(`/api/v1/conversations/${conv.id}/notes`, { method: 'POST', body: { body, mentions } });
      } else {
        const r = await api<ReplyResult>(`/api/v1/conversations/${conv.id}/messages`, {
          method: 'POST',
          headers: { 'Idempotency-Key': key.current },
          body: template ? { template, version: conv.version } : { text: body, version: conv.version },
        });
        if (r.status === 'failed') toast('WhatsApp refused the message; see the timeline for why.', 'error');
      }
      if (template) setTemplates(false);
      else setText('');
      key.current = newKey();
      rt.setPresence(conv.id, 'viewing');
      onRefresh();
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        setError(`Not sent: ${e.message}. The conversation changed meanwhile; it has been reloaded. Your text is kept.`);
        key.current = newKey();
        onRefresh();
      } else if (e instanceof ApiError && e.status < 500) {
        setError(`Not sent: ${e.message}`);
        key.current = newKey();
      } else {
        // network or server trouble: the same key is kept, so trying again cannot send twice
        setError(`Could not reach the server (${e instanceof Error ? e.message : e}). Try again: it will not be sent twice.`);
      }
    } finally {
      inFlight.current = false;
      setSending(false);
    }
  }

  function onKey(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && slash !== null) e.preventDefault(); // "/ref" is a search, never sent
    else if (e.key === 'Enter' && !e.shiftKey && !mention) {
      e.preventDefault();
      void send();
    } else if (e.key === 'Escape') area.current?.blur();
  }

  // @mention autocomplete in note mode
  const mention = note ? /(^|\s)@([\p{L}\d._-]{0,30})$/u.exec(text) : null;
  const suggestions = mention
    ? [...dir.users.values()].filter((u) => !u.disabled && u.name.toLowerCase().includes(mention[2].toLowerCase())).slice(0, 6)
    : [];

  // "/shortcut" typed in reply mode searches the canned responses
  const slash = !note ? shortcutQuery(text) : null;
  const quickQuery = slash ?? (menu === 'quick' ? '' : null);

  function applyRendered(r: Rendered) {
    setText(r.text);
    setMissing(r.missing);
    setMenu(null);
    area.current?.focus();
  }

  return (
    <div className={`composer${note ? ' note-mode' : ''}`}>
      <div className="composer-tabs" role="tablist" aria-label="Composer mode">
        <button role="tab" aria-selected={!note} className={!note ? 'tab active' : 'tab'} onClick={() => setNote(false)}>
          Reply
        </button>
        <button role="tab" aria-selected={note} className={note ? 'tab active' : 'tab'} onClick={() => setNote(true)}>
          Internal note
        </button>
      </div>
      {!note && mode.mode !== 'send' && (
        <div className="owner-lock" role="status">
          {mode.mode === 'claim' && (
            <>
              <span>Nobody owns this conversation yet. Claim it to reply.</span>
              <button className="primary" onClick={onClaim} disabled={busy}>
                Claim
              </button>
            </>
          )}
          {mode.mode === 'takeover' && (
            <>
              <span>
                <strong>{mode.owner}</strong> owns this conversation. Only the owner can reply.
              </span>
              <button onClick={onTakeover} disabled={busy}>
                Take over
              </button>
            </>
          )}
          {mode.mode === 'takeback' && (
            <>
              <span>
                Held by bot <strong className="bot-name">{mode.bot}</strong>: it is answering the customer, and routing and SLA
                wait until it hands over. Take it back to reply yourself.
              </span>
              <button onClick={onTakeBack} disabled={busy || !onTakeBack}>
                Take back
              </button>
            </>
          )}
          {mode.mode === 'locked' && <span>{mode.reason}</span>}
        </div>
      )}
      {windowClosed && mode.mode === 'send' && (
        <p className="banner warn" role="status">
          The 24-hour window is closed: WhatsApp only allows an approved template until the customer writes again.
        </p>
      )}
      {(canType || note) && (
        <div className="composer-box">
          <textarea
            ref={area}
            aria-label={note ? 'Internal note (only your team sees it)' : 'Reply to the customer'}
            placeholder={note ? 'Internal note — @mention a teammate. Only your team sees this.' : 'Type a reply…  (Enter to send, Shift+Enter for a new line)'}
            value={text}
            onChange={(e) => onInput(e.target.value)}
            onKeyDown={onKey}
            disabled={!canType || windowClosed}
            maxLength={note ? 4000 : 4096}
            rows={3}
          />
          {suggestions.length > 0 && (
            <ul className="mentions" role="listbox" aria-label="Mention a teammate">
              {suggestions.map((u: User) => (
                <li key={u.id}>
                  <button
                    role="option"
                    aria-selected="false"
                    onClick={() => {
                      setText(text.replace(/@[\p{L}\d._-]*$/u, `@${u.name} `));
                      area.current?.focus();
                    }}
                  >
                    {u.name}
                  </button>
                </li>
              ))}
            </ul>
          )}
          <div className="composer-actions">
            <button className="ghost" aria-label="Emoji" aria-expanded={menu === 'emoji'} onClick={() => setMenu(menu === 'emoji' ? null : 'emoji')} disabled={!canType}>
              ☺
            </button>
            {!note && (
              <button className="ghost" aria-expanded={menu === 'quick'} onClick={() => setMenu(menu === 'quick' ? null : 'quick')} disabled={!canType}>
                Quick replies
              </button>
            )}
            {!note && (
              <button className="ghost" aria-expanded={attach} onClick={() => setAttach(!attach)} disabled={!canType || windowClosed}>
                Attach
              </button>
            )}
            {!note && (
              <button className="ghost" aria-expanded={templates || windowClosed} onClick={() => setTemplates(!templates)} disabled={!canType || windowClosed}>
                Templates
              </button>
            )}
            <span className="spacer" />
            <span className="muted small">{text.length > 3500 ? `${text.length}/${note ? 4000 : 4096}` : ''}</span>
            <button className="primary" onClick={() => void send()} disabled={!canType || windowClosed || sending || !text.trim() || slash !== null}>
              {sending ? 'Sending…' : note ? 'Add note' : 'Send'}
            </button>
          </div>
          {menu === 'emoji' && (
            <div className="popover" role="menu" aria-label="Emoji">
              {EMOJI.map((e) => (
                <button key={e} role="menuitem" className="ghost" onClick={() => (setText(text + e), setMenu(null), area.current?.focus())}>
                  {e}
                </button>
              ))}
            </div>
          )}
          {!note && attach && canType && !windowClosed && (
            <AttachmentPanel
              conv={conv}
              onClose={() => setAttach(false)}
              onSent={(r) => {
                setAttach(false);
                if (r.status === 'failed') toast('WhatsApp refused the file; see the timeline for why.', 'error');
                onRefresh();
              }}
            />
          )}
          {quickQuery !== null && canType && <QuickReplies query={quickQuery} conversationId={conv.id} onPick={applyRendered} onClose={() => setMenu(null)} />}
          {!note && (templates || windowClosed) && canType && (
            <TemplatePicker conversationId={conv.id} sending={sending} onSend={(t) => void send(t)} onClose={windowClosed ? undefined : () => setTemplates(false)} />
          )}
          {missing.length > 0 && (
            <p className="banner warn small" role="status">
              No value for {missing.map((m) => `{{${m}}}`).join(', ')}: complete the text before sending.
            </p>
          )}
        </div>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
});

/** Users whose "@Name" is in the note. */
export function mentionIds(body: string, users: Pick<User, 'id' | 'name'>[]): string[] {
  return users.filter((u) => body.includes(`@${u.name}`)).map((u) => u.id);
}
