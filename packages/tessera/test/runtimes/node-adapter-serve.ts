/**
 * The node:http example program (examples/node/app.ts, on `tessera-auth/node`)
 * served by Bun, Deno or another Node through their own `node:http`; prints
 * `LISTENING <port>` once it listens.
 */
import { start } from '../../../../examples/node/app.js';

const { url } = await start(0);
console.log(`LISTENING ${new URL(url).port}`);
