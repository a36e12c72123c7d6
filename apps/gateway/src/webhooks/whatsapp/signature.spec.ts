import { matchSignature, sign } from './signature';

describe('matchSignature', () => {
  const body = Buffer.from('{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[]}],"text":"olá 👋"}');

  it('finds which app secret signed the raw bytes', () => {
    expect(matchSignature(body, sign(body, 'second'), ['first', 'second'])).toBe(1);
    expect(matchSignature(body, sign(body, 'first').toUpperCase().replace('SHA256=', 'sha256='), ['first'])).toBe(0);
  });

  it('refuses a missing, malformed or foreign signature', () => {
    expect(matchSignature(body, undefined, ['s'])).toBe(-1);
    expect(matchSignature(body, 'sha256=zz', ['s'])).toBe(-1);
    expect(matchSignature(body, sign(body, 'other'), ['s'])).toBe(-1);
    expect(matchSignature(body, sign(body, 's').replace('sha256=', 'sha1='), ['s'])).toBe(-1);
  });

  it('refuses a body altered by one byte', () => {
    const altered = Buffer.from(body);
    altered[10] ^= 1;
    expect(matchSignature(altered, sign(body, 's'), ['s'])).toBe(-1);
  });
});
