/**
 * CSV cells per RFC 4180 (fields with `,` `"` CR or LF quoted, quotes doubled, CRLF between records), made safe
 * against formula injection: a cell starting with `=` `+` `-` `@` (or a tab / CR, which some spreadsheets strip
 * first) is prefixed with `'`, so a spreadsheet shows it as text instead of running it (OWASP "CSV injection").
 */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(cells: (string | number | boolean | null | undefined)[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}
