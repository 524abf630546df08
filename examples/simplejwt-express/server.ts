/**
 * Run from the repository root: SIGNING_KEY=<32+ bytes> node --conditions=tessera-source --import tsx examples/simplejwt-express/server.ts
 * (after `npm run build`, `npx tsx examples/simplejwt-express/server.ts`). One demo user: alice
 * (id 1), password `wonderland` or DEMO_PASSWORD.
 */
import { checkPassword } from '../demo-user.js';
import { start, type User } from './app.js';

const secret = process.env.SIGNING_KEY; // Django's SIGNING_KEY; HS256 needs >= 32 bytes
if (secret === undefined) throw new Error('Set SIGNING_KEY');
const alice: User = { id: 1, username: 'alice', isActive: true };
const { url } = await start(
  secret,
  {
    byId: async (id) => (id === 1 || id === '1' ? alice : undefined),
    check: async (username, password) => (checkPassword(username, password) ? alice : undefined),
  },
  Number(process.env.PORT ?? 8000),
);
console.log(`SimpleJWT-compatible API on ${url}: POST ${url}/api/token/ {"username":"alice","password":"…"}`);
