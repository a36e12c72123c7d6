import * as fs from 'node:fs';
import * as path from 'node:path';

/** `../shared/whatsapp/fixtures` beside the repository (CI lays it there; so does the dev machine). */
export const FIXTURES_DIR = path.resolve(__dirname, '..', '..', '..', 'shared', 'whatsapp', 'fixtures');

export interface Fixture {
  name: string; // e.g. messages/messages-text-real-capture
  raw: string; // exact bytes as published
}

export function webhookFixtures(): Fixture[] {
  const root = path.join(FIXTURES_DIR, 'webhooks');
  const out: Fixture[] = [];
  for (const dir of fs.readdirSync(root).sort()) {
    const full = path.join(root, dir);
    if (!fs.statSync(full).isDirectory()) continue;
    for (const f of fs.readdirSync(full).sort()) {
      if (f.endsWith('.json')) out.push({ name: `${dir}/${f.replace(/\.json$/, '')}`, raw: fs.readFileSync(path.join(full, f), 'utf8') });
    }
  }
  if (out.length === 0) throw new Error(`no webhook fixtures found under ${root}`);
  return out;
}
