import { mkdir, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { createHash } from 'node:crypto';

const SHA_READ = 1 << 20;

/** Where downloaded media bytes live. LocalMediaStore by default; an S3-compatible store can implement this later. */
export abstract class MediaStore {
  /** Stores the bytes under `key` (overwriting) and returns the key. */
  abstract put(key: string, data: Buffer, meta: { mimeType: string | null }): Promise<string>;
  /** Writes `data` at `offset` (creating the file), for uploads that arrive in chunks. */
  abstract writeAt(key: string, offset: number, data: Buffer): Promise<void>;
  abstract read(key: string): Promise<Buffer>;
  /** Up to `length` bytes from `offset` (fewer at the end of the file). */
  abstract readRange(key: string, offset: number, length: number): Promise<Buffer>;
  /** Deletes the file (GDPR erasure); true if it existed, false if it was already gone. */
  abstract remove(key: string): Promise<boolean>;

  /** The file's sha256, read in 1 MB ranges (an uploaded file of up to 100 MB is never held whole). */
  async sha256(key: string): Promise<string> {
    const hash = createHash('sha256');
    for (let offset = 0; ; ) {
      const part = await this.readRange(key, offset, SHA_READ);
      if (!part.length) break;
      hash.update(part);
      offset += part.length;
    }
    return hash.digest('hex');
  }
}

export class LocalMediaStore extends MediaStore {
  constructor(private readonly dir: string) {
    super();
  }

  /** The file of a key, always strictly inside the media directory (no `..`, no absolute key, not the directory). */
  private file(key: string): string {
    if (!/^[A-Za-z0-9/_.-]+$/.test(key) || key.includes('..')) throw new Error('invalid media key');
    const root = path.resolve(this.dir);
    const file = path.resolve(root, key);
    if (!file.startsWith(root + path.sep)) throw new Error('invalid media key');
    return file;
  }

  async put(key: string, data: Buffer): Promise<string> {
    const file = this.file(key);
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, file); // readers never see half a file
    return key;
  }

  async writeAt(key: string, offset: number, data: Buffer): Promise<void> {
    const file = this.file(key);
    await mkdir(path.dirname(file), { recursive: true });
    const fh = await open(file, offset === 0 ? 'w' : 'r+');
    try {
      await fh.write(data, 0, data.length, offset);
    } finally {
      await fh.close();
    }
  }

  async read(key: string): Promise<Buffer> {
    return readFile(this.file(key));
  }

  async readRange(key: string, offset: number, length: number): Promise<Buffer> {
    const fh = await open(this.file(key), 'r');
    try {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, offset);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  async remove(key: string): Promise<boolean> {
    try {
      await unlink(this.file(key));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }
}
