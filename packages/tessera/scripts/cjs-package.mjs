// The CommonJS build lives in dist/cjs beside the ESM one; this package.json
// marks its .js files as CommonJS for Node and for TypeScript's node16/nodenext.
import { mkdirSync, writeFileSync } from 'node:fs';

const dir = new URL('../dist/cjs/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('package.json', dir), `${JSON.stringify({ type: 'commonjs' })}\n`);
