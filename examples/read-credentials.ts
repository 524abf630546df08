/**
 * The login body of the examples without a body parser (Koa, node:http): JSON, at most
 * 16 KiB; anything else reads as no credentials. A real app would use its framework's parser.
 */
import type { IncomingMessage } from 'node:http';

export async function readCredentials(
  req: IncomingMessage,
): Promise<{ username?: unknown; password?: unknown }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16 * 1024) return {};
    chunks.push(chunk as Buffer);
  }
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}
