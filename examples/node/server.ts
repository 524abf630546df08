/**
 * Run from the repository root: node --conditions=tessera-source --import tsx examples/node/server.ts
 * (after `npm run build`, `npx tsx examples/node/server.ts`). PORT, JWT_SECRET, DEMO_PASSWORD are optional.
 */
import { usage } from '../usage.js';
import { start } from './app.js';

const { url } = await start(Number(process.env.PORT ?? 3000));
console.log(usage('node:http', url));
