import { csvCell, csvRow } from './csv';

describe('CSV cells (RFC 4180, formula-injection safe)', () => {
  it('quotes fields with commas, quotes and line breaks, doubling quotes', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('cr\r\nlf')).toBe('"cr\r\nlf"');
    expect(csvCell(null)).toBe('');
    expect(csvCell(true)).toBe('true');
  });

  it('prefixes cells a spreadsheet would run as a formula', () => {
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell('+491701234')).toBe("'+491701234");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tcmd')).toBe("'\tcmd");
    expect(csvCell('a=b')).toBe('a=b');
  });

  it('neutralises a formula after a semicolon too: spreadsheets whose list separator is ";" split the cell there', () => {
    // a WhatsApp profile name is the customer's to choose; in a ";" locale `x,Bob;=HYPERLINK(…)` is two cells
    expect(csvCell('Bob;=HYPERLINK("http://evil")')).toBe(`"Bob;'=HYPERLINK(""http://evil"")"`);
    expect(csvCell('a;+1;-2;@x;ok')).toBe("a;'+1;'-2;'@x;ok");
    expect(csvCell('x; "=1+1"')).toBe(`"x; ""'=1+1"""`);
    expect(csvCell('csv;vip')).toBe('csv;vip');
  });

  it('ends every record with CRLF', () => {
    expect(csvRow(['a', 'b,c', null])).toBe('a,"b,c",\r\n');
  });
});
