import { SendMessageRequest, describeIssues } from '../index';

const base = { idempotencyKey: 'k1', phoneNumberId: '106540352242922', to: '16505551234', conversationId: null, senderId: null, senderName: null };
const problems = (message: unknown, extra: Record<string, unknown> = {}) => {
  const r = SendMessageRequest.safeParse({ ...base, ...extra, message });
  return r.success ? null : describeIssues(r.error.issues);
};

describe('SendMessageV1 request', () => {
  it('accepts a text, a media by link, a template, buttons, a list and a reaction', () => {
    expect(problems({ type: 'text', body: 'hola', previewUrl: true }, { context: { messageId: 'wamid.X' } })).toBeNull();
    expect(problems({ type: 'image', link: 'https://example.com/a.png', caption: 'c' })).toBeNull();
    expect(problems({ type: 'document', id: '914268667232441', filename: 'a.pdf' })).toBeNull();
    expect(
      problems({ type: 'template', name: 'sample_shipping_confirmation', language: 'en_US', components: [{ type: 'body', parameters: [{ type: 'text', text: '2 hours' }] }] }),
    ).toBeNull();
    expect(problems({ type: 'interactive', interactive: { type: 'button', body: { text: 'b' }, buttons: [{ id: 'b1', title: 'Yes' }] } })).toBeNull();
    expect(
      problems({ type: 'interactive', interactive: { type: 'list', body: { text: 'b' }, button: 'Choose', sections: [{ rows: [{ id: 'r1', title: 'One' }] }] } }),
    ).toBeNull();
    expect(problems({ type: 'reaction', messageId: 'wamid.X', emoji: '👍' })).toBeNull();
  });

  it('names the field when the text is empty or longer than 4096 characters', () => {
    expect(problems({ type: 'text', body: '   ' })).toBe('message.body: text must not be empty');
    expect(problems({ type: 'text', body: 'x'.repeat(4097) })).toBe('message.body: text is longer than 4096 characters');
    expect(problems({ type: 'text', body: 'x'.repeat(4096) })).toBeNull();
  });

  it('refuses media without exactly one of id/link, more than 3 buttons, more than 10 list rows', () => {
    expect(problems({ type: 'image' })).toContain('message.id: exactly one of message.id, message.link or message.uploadId');
    expect(problems({ type: 'image', id: '1', link: 'https://x.y/z' })).toContain('message.id');
    const button = (i: number) => ({ id: `b${i}`, title: `B${i}` });
    expect(problems({ type: 'interactive', interactive: { type: 'button', body: { text: 'b' }, buttons: [1, 2, 3, 4].map(button) } })).toContain(
      'message.interactive.buttons',
    );
    const rows = Array.from({ length: 6 }, (_, i) => ({ id: `r${i}`, title: `R${i}` }));
    expect(
      problems({ type: 'interactive', interactive: { type: 'list', body: { text: 'b' }, button: 'Go', sections: [{ rows }, { rows }] } }),
    ).toContain('at most 10 rows');
    expect(problems({ type: 'sms', body: 'x' })).toContain('message.type');
  });
});
