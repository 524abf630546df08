/**
 * `npm start`: the auth service on SQLite. The signing key (Ed25519) is created
 * on first run and kept in the data directory; so are sessions and revocations.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { exportJwk, generateKey, importJwk, type Jwk, thumbprint } from 'tessera-auth';
import { SqlStore } from 'tessera-auth/stores/sql';
import { createService, hashPassword } from './service.js';

const dataDir = resolve(process.env.TESSERA_DATA_DIR ?? '.data');
const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';
mkdirSync(dataDir, { recursive: true, mode: 0o700 });

const keyFile = join(dataDir, 'signing-key.jwk.json');
if (!existsSync(keyFile)) {
  const generated = generateKey('EdDSA');
  // kid = RFC 7638 thumbprint, so verifiers that pick keys by kid (PyJWKClient) find it.
  const jwk = { ...exportJwk(generated, { private: true }), kid: thumbprint(exportJwk(generated)) };
  writeFileSync(keyFile, JSON.stringify(jwk), { mode: 0o600 });
}
const key = importJwk(JSON.parse(readFileSync(keyFile, 'utf8')) as Jwk);

const store = await SqlStore.sqlite(join(dataDir, 'tessera.sqlite'));
await store.migrate();

// The demo user's password comes from the environment or is generated and printed once.
const password = process.env.TESSERA_DEMO_PASSWORD ?? randomBytes(9).toString('base64url');
const { server } = createService({
  key,
  store,
  users: [{ username: 'alice', passwordSha256: hashPassword(password) }],
});

server.listen(port, host, () => {
  const base = `http://${host}:${port}`;
  console.log(`Tessera auth service on ${base} (data in ${dataDir})
Demo user: alice / ${process.env.TESSERA_DEMO_PASSWORD ? '<TESSERA_DEMO_PASSWORD>' : password}

  curl -s -X POST ${base}/login -H 'content-type: application/json' -d '{"username":"alice","password":"..."}'
  curl -s ${base}/protected -H "Authorization: Bearer <access_token>"
  curl -s -X POST ${base}/refresh -H "Authorization: Bearer <refresh_token>"
  curl -s ${base}/sessions -H "Authorization: Bearer <access_token>"
  curl -s -X POST ${base}/logout -H "Authorization: Bearer <access_token>"
  curl -s ${base}/.well-known/jwks.json`);
});

// Revocations and sessions past their expiry are dead weight: purge them hourly.
const purge = setInterval(() => {
  store.purgeExpired(Math.floor(Date.now() / 1000)).catch((error: unknown) => {
    console.error(`tessera-server: purge failed: ${error instanceof Error ? error.message : 'error'}`);
  });
}, 3_600_000);
purge.unref();

const stop = () => {
  clearInterval(purge);
  server.close(() => void store.close().then(() => process.exit(0)));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
