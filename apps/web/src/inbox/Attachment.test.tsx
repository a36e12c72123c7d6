import { act, fireEvent, screen, waitFor } from '@testing-library/react';
import { saveSession } from '../lib/api';
import { conversation, renderWithApp, stubFetch } from '../test-utils';
import { attachmentCheck } from './Attachment';
import { Composer } from './Composer';

const noop = () => undefined;
const png = (size = 2048, name = 'receipt.png', type = 'image/png') => new File([new Uint8Array(size)], name, { type });

describe('composer: attachments', () => {
  beforeEach(() => saveSession({ accessToken: 'sba_test', refreshToken: 'sbr_test', expiresAt: Date.now() + 60_000 }));

  it('the owner attaches an image with a caption: one multipart POST with the file, caption, version and an Idempotency-Key, even on a double click', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const calls = stubFetch(async (url) => {
      if (url.endsWith('/attachments')) await gate;
      return { status: 202, body: { sendId: 's1', status: 'queued', waMessageId: null, duplicate: false, claimed: false, version: 3, type: 'image' } };
    });
    const refreshed: number[] = [];
    renderWithApp(<Composer conv={conversation()} onRefresh={() => refreshed.push(1)} onClaim={noop} onTakeover={noop} busy={false} />);
    const open = screen.getByRole('button', { name: 'Attach' });
    expect(open.getAttribute('aria-expanded')).toBe('false');
    fireEvent.click(open);
    const panel = screen.getByRole('group', { name: 'Attach a file' });
    expect(panel).toBeTruthy();
    fireEvent.change(screen.getByLabelText('File'), { target: { files: [png()] } });
    expect(screen.getByText(/receipt\.png · 2 KB · sent as image/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Caption (optional)'), { target: { value: 'Your receipt' } });
    const send = screen.getByRole('button', { name: 'Send file' });
    fireEvent.click(send);
    fireEvent.click(send);
    await act(async () => release());
    await waitFor(() => expect(refreshed).toHaveLength(1));
    const posts = calls.filter((c) => c.url.endsWith(`/api/v1/conversations/${conversation().id}/attachments`));
    expect(posts).toHaveLength(1);
    const form = posts[0].init.body as FormData;
    expect(form).toBeInstanceOf(FormData);
    expect((form.get('file') as File).name).toBe('receipt.png');
    expect(form.get('caption')).toBe('Your receipt');
    expect(form.get('version')).toBe('3');
    const headers = posts[0].init.headers as Record<string, string>;
    expect(headers['Idempotency-Key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(headers['content-type']).toBeUndefined(); // the browser sets multipart with its boundary
    expect(screen.queryByRole('group', { name: 'Attach a file' })).toBeNull(); // closed after sending
  });

  it('a file WhatsApp refuses (type or size) is explained and cannot be sent; the server’s refusal is shown in its words', async () => {
    const calls = stubFetch(() => ({ status: 413, body: { statusCode: 413, message: 'file: the image is 6000000 bytes; WhatsApp accepts at most 5242880 bytes' } }));
    renderWithApp(<Composer conv={conversation()} onRefresh={noop} onClaim={noop} onTakeover={noop} busy={false} />);
    fireEvent.click(screen.getByRole('button', { name: 'Attach' }));
    fireEvent.change(screen.getByLabelText('File'), { target: { files: [png(10, 'a.zip', 'application/zip')] } });
    expect(screen.getByRole('alert').textContent).toMatch(/does not accept application\/zip/);
    expect((screen.getByRole('button', { name: 'Send file' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(screen.getByLabelText('File'), { target: { files: [png((5 << 20) + 1, 'big.jpg', 'image/jpeg')] } });
    expect(screen.getByRole('alert').textContent).toMatch(/at most 5.0 MB for an image/);
    expect((screen.getByRole('button', { name: 'Send file' }) as HTMLButtonElement).disabled).toBe(true);
    expect(calls.filter((c) => c.url.endsWith('/attachments'))).toHaveLength(0);
    // the server has the last word (its limits could differ): its message is shown
    fireEvent.change(screen.getByLabelText('File'), { target: { files: [png()] } });
    fireEvent.click(screen.getByRole('button', { name: 'Send file' }));
    expect((await screen.findByRole('alert')).textContent).toContain('Not sent: file: the image is 6000000 bytes');
  });

  it('keyboard: the file picker gets the focus when the panel opens; Escape closes it', () => {
    renderWithApp(<Composer conv={conversation()} onRefresh={noop} onClaim={noop} onTakeover={noop} busy={false} />);
    fireEvent.click(screen.getByRole('button', { name: 'Attach' }));
    expect(document.activeElement).toBe(screen.getByLabelText('File'));
    fireEvent.keyDown(screen.getByLabelText('File'), { key: 'Escape' });
    expect(screen.queryByRole('group', { name: 'Attach a file' })).toBeNull();
  });

  it('audio takes no caption; not the owner or the window closed: no Attach', () => {
    renderWithApp(<Composer conv={conversation()} onRefresh={noop} onClaim={noop} onTakeover={noop} busy={false} />);
    fireEvent.click(screen.getByRole('button', { name: 'Attach' }));
    fireEvent.change(screen.getByLabelText('File'), { target: { files: [png(100, 'note.mp3', 'audio/mpeg')] } });
    expect(screen.queryByLabelText('Caption (optional)')).toBeNull();
    expect(attachmentCheck({ type: 'application/pdf', size: 10 })).toEqual({ type: 'document', error: null });
    expect(attachmentCheck({ type: 'video/mp4', size: (16 << 20) + 1 }).error).toMatch(/at most/);
  });

  it('the 24-hour window closed or someone else owns it: the Attach button is disabled or absent', () => {
    stubFetch(() => ({ status: 200, body: { items: [] } }));
    const { unmount } = renderWithApp(<Composer conv={conversation({ window: { open: false, endsAt: null } })} onRefresh={noop} onClaim={noop} onTakeover={noop} busy={false} />);
    expect((screen.getByRole('button', { name: 'Attach' }) as HTMLButtonElement).disabled).toBe(true);
    unmount();
    renderWithApp(<Composer conv={conversation({ owner: { id: 'u-ben', name: 'Ben' } })} onRefresh={noop} onClaim={noop} onTakeover={noop} busy={false} />);
    expect(screen.queryByRole('button', { name: 'Attach' })).toBeNull();
  });
});
