import { detectLanguage, messageLanguage, writtenText } from './message-language';

describe('message language (tinyld behind minimum length, word and confidence checks)', () => {
  it.each([
    ['Guten Tag, ich habe eine Frage zu meiner Bestellung.', 'de'],
    ['Meine Bestellung ist noch nicht angekommen', 'de'],
    ['Hat der Laden am Sonntag geöffnet?', 'de'],
    ['Hola, tengo una pregunta sobre mi pedido, por favor.', 'es'],
    ['Mi pedido no ha llegado todavía', 'es'],
    ['¿Cuánto cuesta el envío a Alemania?', 'es'],
    ['Hello, I have a question about my order, please.', 'en'],
    ['I need help with my invoice', 'en'],
    ['How much is shipping to Germany?', 'en'],
  ])('%j → %s', (text, code) => {
    expect(detectLanguage(text)).toBe(code);
  });

  it.each([
    ['empty', ''],
    ['a greeting', 'Hallo'],
    ['two short words', 'Good morning'],
    ['a short reply', 'Yes please'],
    ['one long word', 'Kundenservice'],
    ['one word repeated', 'lol lol lol lol'],
    ['laughter', 'hahahahahahaha'],
    ['a product name and numbers', 'iPhone 15 Pro Max 256GB'],
    ['numbers and emoji', '12345 67890 👍👍👍'],
    ['a link and an address', 'https://example.com/orders/12345?lang=de mail@example.com'],
    ['Russian or Ukrainian (too close to tell here)', 'Я хочу отменить заказ'],
  ])('%s gives no language', (_what, text) => {
    expect(detectLanguage(text)).toBeNull();
  });

  it('looks at what the customer wrote: body, caption, button text, interactive reply title; not our renderings', () => {
    expect(writtenText('text', { body: 'Wo ist mein Paket?' })).toBe('Wo ist mein Paket?');
    expect(writtenText('image', { id: 'm1', caption: 'Das Gerät ist beim Transport kaputt gegangen' })).toBe('Das Gerät ist beim Transport kaputt gegangen');
    expect(writtenText('button', { payload: 'P1', text: 'Ja, bitte zurückrufen' })).toBe('Ja, bitte zurückrufen');
    expect(writtenText('interactive', { type: 'list_reply', list_reply: { id: 'r1', title: 'Rückgabe', description: 'Ich möchte etwas zurückschicken' } })).toBe(
      'Rückgabe. Ich möchte etwas zurückschicken',
    );
    expect(writtenText('interactive', { type: 'button_reply', button_reply: { id: 'b1', title: 'Talk to an agent' } })).toBe('Talk to an agent');
    expect(writtenText('image', { id: 'm1' })).toBeNull();
    expect(writtenText('location', { name: 'Hauptbahnhof Berlin', address: 'Europaplatz 1, Berlin' })).toBeNull();
    expect(writtenText('interactive', 'not an object')).toBeNull();

    expect(messageLanguage('text', { body: 'Ich brauche Hilfe mit meiner Rechnung' })).toBe('de');
    expect(messageLanguage('video', { id: 'v1', caption: 'La entrega llegó tarde otra vez, ¡es la tercera vez!' })).toBe('es');
    expect(messageLanguage('interactive', { type: 'list_reply', list_reply: { id: 'r1', title: 'Rückgabe', description: 'Ich möchte etwas zurückschicken' } })).toBe('de');
    expect(messageLanguage('sticker', { id: 's1' })).toBeNull();
  });

  it('reads at most the first few hundred characters (bounded cost for a 4,096-character message)', () => {
    expect(detectLanguage(`Die Lieferung kam schon wieder zu spät, das ist das dritte Mal! ${'The rest is English text. '.repeat(150)}`)).toBe('de');
  });

  it("does not hang on texts built to make patterns backtrack ('@' × 4,096 took 40 s with an address pattern of two \\S+ runs)", () => {
    for (const t of ['@'.repeat(4096), 'a@'.repeat(2048), `${'a'.repeat(4000)}@`, `${'x@y'.repeat(1300)}.`, `http://${'/'.repeat(4000)}`]) expect(detectLanguage(t)).toBeNull();
    expect(detectLanguage('Schreiben Sie mir bitte an hilfe@beispiel.de, ich warte schon seit Tagen auf eine Antwort')).toBe('de');
  }, 10_000);
});
