/** A client that streams a JSON body larger than any adapter's limit, for the 413 tests. */
import { request as httpRequest } from 'node:http';
import { expect } from 'vitest';

/**
 * POST an endless chunked JSON body and expect 413 body_too_large before the
 * client stops sending (8 MiB at most): the limit is found while reading.
 */
export async function expectStreamedOversizeRefused(url: string): Promise<void> {
  const { status, text, sentWhenAnswered } = await new Promise<{
    status: number;
    text: string;
    sentWhenAnswered: number;
  }>((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = httpRequest(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
      (res) => {
        answered = true;
        const at = sent;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, text: body, sentWhenAnswered: at });
        });
      },
    );
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const chunk = `{"pad":"${'x'.repeat(64 * 1024)}`;
    // Keep sending (never ending the body) until the server answers, up to 8 MiB.
    const pump = () => {
      if (answered || sent > 8 * 1024 * 1024) return;
      sent += chunk.length;
      if (req.write(chunk)) setImmediate(pump);
      else req.once('drain', pump);
    };
    pump();
  });
  expect(status).toBe(413);
  expect(JSON.parse(text)).toEqual({
    msg: 'The request body is larger than 1048576 bytes',
    code: 'body_too_large',
  });
  // The client had not finished: the limit was found while reading, not after the whole body.
  expect(sentWhenAnswered).toBeLessThan(8 * 1024 * 1024);
}
