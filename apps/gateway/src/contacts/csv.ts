/**
 * CSV cells per RFC 4180 (fields with `,` `"` CR or LF quoted, quotes doubled, CRLF between records), made safe
 * against formula injection: a cell starting with `=` `+` `-` `@` (or a tab / CR, which some spreadsheets strip
 * first) is prefixed with `'`, so a spreadsheet shows it as text instead of running it (OWASP "CSV injection").
 * So is such a character right after a `;` (spaces or quotes between): a spreadsheet whose list separator is `;`
 * (many European locales) splits the cell there, and a quote in mid-line does not hold it together.
 */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  let s = String(value);
  s = s.replace(/(^|;)([ "]*)(?=[=+\-@\t\r])/g, "$1$2'");
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(cells: (string | number | boolean | null | undefined)[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}
