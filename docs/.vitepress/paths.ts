/**
 * Where the generated API reference goes: outside docs/ (under node_modules/.cache, which
 * git and the linter skip), served by VitePress as its public directory, so the site
 * copies it to /api/ and the dead-link check finds its pages.
 */
import { fileURLToPath } from 'node:url';

export const generatedPublicDir = fileURLToPath(
  new URL('../../node_modules/.cache/tessera-docs/public/', import.meta.url),
);
