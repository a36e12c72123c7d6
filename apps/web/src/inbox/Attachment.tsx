import { useEffect, useId, useRef, useState } from 'react';
import { api, ApiError, newKey } from '../lib/api';
import { bytes } from '../lib/format';
import type { Conversation, ReplyResult } from '../lib/types';

/**
 * What WhatsApp accepts (REFERENCE §3), mirrored from the gateway so a wrong file is explained before it is
 * uploaded; the gateway checks the same rules (400 for the type, 413 for the size).
 */
const KINDS: { type: 'image' | 'document' | 'audio' | 'video'; maxBytes: number; mime: string[] }[] = [
  { type: 'image', maxBytes: 5 << 20, mime: ['image/jpeg', 'image/png'] },
  { type: 'video', maxBytes: 16 << 20, mime: ['video/mp4', 'video/3gpp'] },
  { type: 'audio', maxBytes: 16 << 20, mime: ['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg'] },
  {
    type: 'document',
    maxBytes: 100 << 20,
    mime: [
      'text/plain', 'application/pdf', 'application/vnd.ms-excel', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'application/msword', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'application/vnd.ms-powerpoint',
      'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    ],
  },
];
const ACCEPT = KINDS.flatMap((k) => k.mime).join(',');

/** How a file would be sent, or why it cannot be. */
export function attachmentCheck(file: { type: string; size: number }): { type: string; error: null } | { type: null; error: string } {
  const kind = KINDS.find((k) => k.mime.includes(file.type.split(';')[0].trim().toLowerCase()));
  if (!kind) return { type: null, error: `WhatsApp does not accept ${file.type || 'this kind of file'}. Send an image (JPEG, PNG), a video (MP4, 3GP), audio (AAC, AMR, MP3, M4A, OGG) or a document (PDF, text, Office).` };
  if (file.size > kind.maxBytes) return { type: null, error: `This ${kind.type} is ${bytes(file.size)}; WhatsApp accepts at most ${bytes(kind.maxBytes)} for ${kind.type === 'image' || kind.type === 'audio' ? 'an' : 'a'} ${kind.type}.` };
  if (file.size === 0) return { type: null, error: 'The file is empty.' };
  return { type: kind.type, error: null };
}

/**
 * Attach a file (with an optional caption) and send it to the customer. Like the text composer: one
 * Idempotency-Key per chosen file and caption, reused by a retry after a network failure; locked while sending.
 */
export function AttachmentPanel({ conv, onSent, onClose }: { conv: Conversation; onSent(r: ReplyResult): void; onClose(): void }) {
  const [file, setFile] = useState<File | null>(null);
  const [caption, setCaption] = useState('');
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const key = useRef(newKey());
  const inFlight = useRef(false);
  const fileId = useId();
  const fileInput = useRef<HTMLInputElement>(null);
  useEffect(() => fileInput.current?.focus(), []); // keyboard users land on the file picker
  const captionId = useId();
  const check = file ? attachmentCheck(file) : null;

  function choose(f: File | null) {
    setFile(f);
    setError(null);
    key.current = newKey(); // a new draft
  }

  async function send() {
    if (!file || !check?.type || inFlight.current) return;
    inFlight.current = true;
    setSending(true);
    setError(null);
    try {
      const form = new FormData();
      form.set('file', file, file.name);
      if (caption.trim() && check.type !== 'audio') form.set('caption', caption.trim());
      form.set('version', String(conv.version));
      const r = await api<ReplyResult>(`/api/v1/conversations/${conv.id}/attachments`, { method: 'POST', headers: { 'Idempotency-Key': key.current }, body: form });
      key.current = newKey();
      setFile(null);
      setCaption('');
      onSent(r);
    } catch (e) {
      // refused: a new key for the next try; network or server trouble: the same key, so a retry cannot send twice
      const refused = e instanceof ApiError && e.status < 500;
      if (refused) key.current = newKey();
      setError(refused ? `Not sent: ${e.message}` : `Could not reach the server (${e instanceof Error ? e.message : e}). Try again: it will not be sent twice.`);
    } finally {
      inFlight.current = false;
      setSending(false);
    }
  }

  return (
    <div className="popover attachment" role="group" aria-label="Attach a file" onKeyDown={(e) => e.key === 'Escape' && !sending && onClose()}>
      <label htmlFor={fileId}>File</label>
      <input ref={fileInput} id={fileId} type="file" accept={ACCEPT} onChange={(e) => choose(e.target.files?.[0] ?? null)} disabled={sending} />
      {file && (
        <p className="muted small">
          {file.name} · {bytes(file.size)}
          {check?.type ? ` · sent as ${check.type}` : ''}
        </p>
      )}
      {check?.error && (
        <p className="error" role="alert">
          {check.error}
        </p>
      )}
      {check?.type !== 'audio' && (
        <>
          <label htmlFor={captionId}>Caption (optional)</label>
          <input id={captionId} type="text" value={caption} maxLength={1024} onChange={(e) => setCaption(e.target.value)} disabled={sending} />
        </>
      )}
      <div className="row">
        <button className="primary" onClick={() => void send()} disabled={!check?.type || sending}>
          {sending ? 'Sending…' : 'Send file'}
        </button>
        <button className="ghost" onClick={onClose} disabled={sending}>
          Cancel
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
