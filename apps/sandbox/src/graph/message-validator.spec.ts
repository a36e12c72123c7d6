import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../../../../test/support/fixtures';
import { GraphError } from './graph-errors';
import { validateMessageBody } from './message-validator';
import { seedTemplates } from './templates';

const FIX = join(FIXTURES_DIR, 'graph');
const fixture = (p: string) => JSON.parse(readFileSync(join(FIX, p), 'utf8'));
const templates = seedTemplates();
const find = (n: string, l: string) => templates.find((t) => t.name === n && t.language === l);
const validate = (b: unknown) => validateMessageBody(b, find);
const errorOf = (b: unknown) => {
  const r = validate(b);
  if (!(r instanceof GraphError)) throw new Error(`expected an error, got ${JSON.stringify(r)}`);
  return r;
};
const keysDeep = (o: unknown): string[] =>
  o && typeof o === 'object' ? Object.entries(o).flatMap(([k, v]) => [k, ...keysDeep(v).map((x) => `${k}.${x}`)]).sort() : [];

describe('sandbox Graph message validation', () => {
  it.each([
    'send-text.json',
    'send-audio-media-id.json',
    'send-contacts.json',
    'send-image-link-caption.json',
    'send-interactive-reply-buttons.json',
    'send-reaction.json',
    'send-template-body-parameter.json',
  ])('accepts the documented request %s', (name) => {
    const r = validate(fixture(`requests/${name}`));
    expect(r).toMatchObject({ kind: 'message', to: '13437772910' });
  });

  it('accepts the mark-as-read + typing indicator body', () => {
    expect(validate(fixture('requests/mark-read-with-typing-indicator.json'))).toEqual({
      kind: 'mark-read',
      messageId: expect.stringMatching(/^wamid\./),
      typing: true,
    });
  });

  it('answers a missing text parameter like the documented 100 error (same shape as the fixture)', () => {
    const body = fixture('requests/send-template-body-parameter.json');
    delete body.template.components[0].parameters[0].text;
    const err = errorOf(body);
    const doc = fixture('responses/error-100-invalid-parameter-template-text-mandatory.json');
    expect(err.httpStatus).toBe(400);
    expect(err.body.error).toMatchObject({ code: 100, message: doc.error.message, type: doc.error.type });
    expect(err.body.error.error_data).toEqual(doc.error.error_data);
    expect(keysDeep(err.body)).toEqual(keysDeep(doc));
  });

  it('refuses an empty text, text over 4096 characters and a missing messaging_product', () => {
    const text = fixture('requests/send-text.json');
    expect(errorOf({ ...text, text: { body: '' } }).code).toBe(131008);
    const long = errorOf({ ...text, text: { body: 'x'.repeat(4097) } });
    expect(long.code).toBe(100);
    expect(long.body.error.error_data?.details).toContain('4096');
    expect(validate({ ...text, text: { body: 'x'.repeat(4096) } })).toMatchObject({ kind: 'message' });
    const { messaging_product: _omit, ...noProduct } = text;
    expect(errorOf(noProduct).body.error.message).toBe('(#100) The parameter messaging_product is required.');
    expect(errorOf({ ...text, to: undefined }).body.error.message).toContain('to');
  });

  it('checks templates: name/language required, unknown, paused, and the body parameter count', () => {
    const t = fixture('requests/send-template-body-parameter.json');
    expect(errorOf({ ...t, template: { ...t.template, name: undefined } }).code).toBe(131008);
    expect(errorOf({ ...t, template: { ...t.template, language: {} } }).code).toBe(131008);
    expect(errorOf({ ...t, template: { ...t.template, name: 'nope' } }).code).toBe(132001);
    expect(errorOf({ ...t, template: { ...t.template, name: 'seasonal_promo' } }).code).toBe(132015);
    expect(errorOf({ ...t, template: { ...t.template, components: [] } }).code).toBe(132000);
    expect(validate({ ...t, template: { name: 'hello_world', language: { code: 'en_US' } } })).toMatchObject({ isTemplate: true });
  });

  it('limits interactive messages to 3 buttons of 20 characters and 10 list rows', () => {
    const b = fixture('requests/send-interactive-reply-buttons.json');
    const btn = (i: number, title = `B${i}`) => ({ type: 'reply', reply: { id: `b${i}`, title } });
    expect(errorOf({ ...b, interactive: { ...b.interactive, action: { buttons: [1, 2, 3, 4].map((i) => btn(i)) } } }).code).toBe(100);
    expect(errorOf({ ...b, interactive: { ...b.interactive, action: { buttons: [btn(1, 'x'.repeat(21))] } } }).code).toBe(100);
    const rows = Array.from({ length: 11 }, (_, i) => ({ id: `r${i}`, title: `R${i}` }));
    const list = { ...b, interactive: { type: 'list', body: { text: 'b' }, action: { button: 'Go', sections: [{ title: 's', rows }] } } };
    expect(errorOf(list).code).toBe(100);
    list.interactive.action.sections[0].rows = rows.slice(0, 10);
    expect(validate(list)).toMatchObject({ kind: 'message', type: 'interactive' });
  });
});
