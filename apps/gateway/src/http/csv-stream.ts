import type { Response } from 'express';

/**
 * Streams CSV chunks to the response with backpressure (memory stays flat however many rows). The first two chunks
 * (the header and the first page) are produced before the status line, so a dependency that is down is still a
 * clean 4xx/503; after that, a failure cuts the connection (the file is visibly incomplete).
 */
export async function sendCsv(res: Response, filename: string, chunks: AsyncGenerator<string>): Promise<void> {
  const head = [(await chunks.next()).value ?? '', (await chunks.next()).value ?? ''].join('');
  res.status(200);
  res.setHeader('Content-Type', 'text/csv; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="${filename}"`);
  res.setHeader('Cache-Control', 'no-store');
  try {
    res.write(head);
    for await (const chunk of chunks) if (chunk && !res.write(chunk)) await new Promise((r) => res.once('drain', r));
    res.end();
  } catch (err) {
    res.destroy(err as Error);
  }
}
