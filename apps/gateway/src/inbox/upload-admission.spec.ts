import { PassThrough } from 'node:stream';
import type { Request } from 'express';
import { MEDIA_LIMITS } from '@app/contracts';
import { attachmentStorage, MULTIPART_OVERHEAD } from './upload-admission';

/** What multer's storage engine is handed for one file part, and what it answers. */
function handle(contentLength: number | undefined, mimetype: string) {
  const stream = new PassThrough();
  let read = 0;
  stream.on('data', (d: Buffer) => (read += d.length));
  const req = { headers: contentLength === undefined ? {} : { 'content-length': String(contentLength) } } as unknown as Request;
  let answer: { err: any; info?: { buffer: Buffer; size: number } } | null = null;
  attachmentStorage._handleFile(req, { mimetype, stream }, (err, info) => (answer = { err, info }));
  return { stream, answer: () => answer, read: () => read };
}

describe('attachment storage (multer engine): the declared type decides the limit before the file is kept', () => {
  const IMAGE = MEDIA_LIMITS.image.maxBytes;

  it('an image whose request declares more than 5 MB is refused (413) before a byte of it is read', () => {
    const h = handle(50 << 20, 'image/jpeg');
    expect(h.answer()).toMatchObject({ err: { status: 413, message: expect.stringContaining(`at most ${IMAGE} bytes`) } });
    expect(h.answer()!.info).toBeUndefined();
    // the same length is fine for a document (its limit is 100 MB): nothing is refused yet
    expect(handle(50 << 20, 'application/pdf').answer()).toBeNull();
  });

  it('without a usable Content-Length the bytes are counted: refused at the first byte over the limit, nothing kept', () => {
    const h = handle(undefined, 'image/png');
    h.stream.write(Buffer.alloc(IMAGE, 1));
    expect(h.answer()).toBeNull();
    h.stream.write(Buffer.alloc(1, 1));
    expect(h.answer()).toMatchObject({ err: { status: 413, message: expect.stringContaining(`is ${IMAGE + 1} bytes`) } });
    expect(h.answer()!.info).toBeUndefined();
  });

  it('a file within its limit is kept as one buffer of its bytes; a type WhatsApp refuses is 400 at once', async () => {
    const h = handle(1000 + MULTIPART_OVERHEAD, 'image/png');
    h.stream.write(Buffer.from('abc'));
    h.stream.end(Buffer.from('def'));
    await new Promise((r) => setImmediate(r));
    expect(h.answer()).toMatchObject({ err: null, info: { size: 6 } });
    expect(h.answer()!.info!.buffer.toString()).toBe('abcdef');
    expect(handle(10, 'application/zip').answer()).toMatchObject({ err: { status: 400, message: expect.stringContaining('does not accept application/zip') } });
  });
});
