import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LocalMediaStore } from '../../apps/ingest/src/media/media-store';

/** Path traversal in media storage: a key can only ever name a file inside MEDIA_DIR. */
describe('security: LocalMediaStore keys never leave the media directory', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'sb-media-sec-'));
  const dir = path.join(root, 'media');
  const store = new LocalMediaStore(dir);
  // a file beside the media directory, which a traversal would reach
  writeFileSync(path.join(root, 'secret.txt'), 'secret');

  it.each(['../secret.txt', 'ab/../../secret.txt', '/etc/passwd', `${root}/secret.txt`, 'ab/\0x', '', '.', 'ab/..'])('refuses key %j', async (key) => {
    await expect(store.read(key)).rejects.toThrow(/invalid media key/);
    await expect(store.readRange(key, 0, 10)).rejects.toThrow(/invalid media key/);
    await expect(store.put(key, Buffer.from('x'))).rejects.toThrow(/invalid media key/);
  });

  it('stores and reads a normal key under the directory', async () => {
    await store.put('ab/abcdef-1234', Buffer.from('hello'));
    expect((await store.read('ab/abcdef-1234')).toString()).toBe('hello');
    expect((await store.readRange('ab/abcdef-1234', 1, 3)).toString()).toBe('ell');
  });
});
