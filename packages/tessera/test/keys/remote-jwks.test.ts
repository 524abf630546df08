import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AlgorithmNotAllowedError,
  ConfigError,
  JwksInvalidError,
  JwksUnavailableError,
  KeyNotFoundError,
} from '../../src/errors.js';
import { decodeJws, signJws, verifyJws } from '../../src/jws/compact.js';
import type { JwsHeader } from '../../src/jws/header.js';
import { generateKey } from '../../src/keys/generate.js';
import type { Jwk } from '../../src/keys/jwk.js';
import { exportJwk, toJwks } from '../../src/keys/jwks.js';
import type { TesseraKey } from '../../src/keys/key.js';
import { RemoteJwks, type RemoteJwksOptions } from '../../src/keys/remote-jwks.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** A real HTTP server on 127.0.0.1 whose answer the test can change, counting requests. */
interface JwksServer {
  readonly url: string;
  requests: number;
  handler: Handler;
  close(): Promise<void>;
}

const servers: JwksServer[] = [];

async function startServer(handler: Handler): Promise<JwksServer> {
  let server: Server | undefined;
  const state: JwksServer = {
    url: '',
    requests: 0,
    handler,
    close: () =>
      new Promise<void>((resolve) => {
        server?.closeAllConnections();
        server?.close(() => resolve());
      }),
  };
  server = createServer((request, response) => {
    state.requests++;
    state.handler(request, response);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  Object.assign(state, { url: `http://127.0.0.1:${port}/.well-known/jwks.json` });
  servers.push(state);
  return state;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const json =
  (body: unknown, status = 200): Handler =>
  (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

/** A clock the test moves by hand (milliseconds). */
function clock(start = 1_700_000_000_000): { now: () => number; advance(ms: number): void } {
  let time = start;
  return {
    now: () => time,
    advance(ms: number) {
      time += ms;
    },
  };
}

const header = (alg: string, kid?: string): JwsHeader => (kid === undefined ? { alg } : { alg, kid });

/** Always a promise, whether the set answered from cache (synchronously) or not. */
const select = async (jwks: RemoteJwks, h: JwsHeader): Promise<readonly TesseraKey[]> =>
  jwks.verificationKeys(h);

function remote(server: JwksServer, options: RemoteJwksOptions = {}): RemoteJwks {
  return new RemoteJwks(server.url, { timeoutMs: 2000, ...options });
}

const signer1 = generateKey('ES256', { kid: 'key-1' });
const signer2 = generateKey('RS256', { kid: 'key-2' });
const signer3 = generateKey('EdDSA', { kid: 'key-3' });

describe('RemoteJwks caching', () => {
  it('serves from cache within maxAge (one request), and the fetched key verifies', async () => {
    const server = await startServer(json(toJwks([signer1, signer2])));
    const time = clock();
    const jwks = remote(server, { now: time.now });
    expect(jwks.lastFetchedAt).toBeUndefined();
    const [first] = await jwks.verificationKeys(header('ES256', 'key-1'));
    expect(server.requests).toBe(1);
    expect(jwks.lastFetchedAt).toBe(time.now());
    time.advance(599_000);
    // A fresh cache answers synchronously.
    const again = jwks.verificationKeys(header('RS256', 'key-2'));
    expect(Array.isArray(again)).toBe(true);
    await jwks.verificationKeys(header('ES256'));
    expect(server.requests).toBe(1);

    if (signer1.signing === undefined || first === undefined) throw new Error('setup');
    const decoded = decodeJws(signJws({ kid: 'key-1' }, { sub: 'u' }, signer1.signing));
    expect(first.type).toBe('public');
    expect(verifyJws(decoded, first.verifying)).toBe(true);
  });

  it('refetches once maxAge has passed', async () => {
    const server = await startServer(json(toJwks([signer1])));
    const time = clock();
    const jwks = remote(server, { now: time.now, maxAgeSeconds: 60 });
    await jwks.verificationKeys(header('ES256', 'key-1'));
    time.advance(60_000);
    server.handler = json(toJwks([signer1, signer2]));
    await expect(select(jwks, header('RS256', 'key-2'))).resolves.toHaveLength(1);
    expect(server.requests).toBe(2);
    expect(jwks.lastFetchedAt).toBe(time.now());
  });

  it('refetches on an unknown kid at most once per cooldown (rotation without amplification)', async () => {
    const server = await startServer(json(toJwks([signer1])));
    const time = clock();
    const jwks = remote(server, { now: time.now, cooldownSeconds: 30 });
    await jwks.verificationKeys(header('ES256', 'key-1'));
    expect(server.requests).toBe(1);

    // Just fetched: an unknown kid does not refetch inside the cooldown.
    await expect(async () => jwks.verificationKeys(header('ES256', 'random-1'))).rejects.toThrow(
      KeyNotFoundError,
    );
    expect(server.requests).toBe(1);

    // After the cooldown: one refetch, which finds a rotated-in key.
    time.advance(30_000);
    server.handler = json(toJwks([signer1, signer3]));
    await expect(select(jwks, header('EdDSA', 'key-3'))).resolves.toHaveLength(1);
    expect(server.requests).toBe(2);

    // A flood of random kids right after costs no more requests.
    time.advance(1_000);
    for (let i = 0; i < 50; i++) {
      await expect(async () => jwks.verificationKeys(header('ES256', `random-${i}`))).rejects.toThrow(
        KeyNotFoundError,
      );
    }
    expect(server.requests).toBe(2);

    // The next cooldown allows exactly one more.
    time.advance(30_000);
    await expect(async () => jwks.verificationKeys(header('ES256', 'random-x'))).rejects.toThrow(
      KeyNotFoundError,
    );
    await expect(async () => jwks.verificationKeys(header('ES256', 'random-y'))).rejects.toThrow(
      KeyNotFoundError,
    );
    expect(server.requests).toBe(3);
  });

  it('does not refetch for a known kid under the wrong alg, or for an unknown alg', async () => {
    const server = await startServer(json(toJwks([signer1])));
    const time = clock();
    const jwks = remote(server, { now: time.now });
    await jwks.verificationKeys(header('ES256', 'key-1'));
    time.advance(120_000);
    await expect(async () => jwks.verificationKeys(header('HS256', 'key-1'))).rejects.toThrow(
      AlgorithmNotAllowedError,
    );
    await expect(async () => jwks.verificationKeys(header('PS256'))).rejects.toThrow(
      AlgorithmNotAllowedError,
    );
    expect(server.requests).toBe(1);
  });

  it('lets concurrent callers share one request', async () => {
    const server = await startServer((request, response) => {
      setTimeout(() => json(toJwks([signer1, signer2]))(request, response), 150);
    });
    const jwks = remote(server);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => jwks.verificationKeys(header(i % 2 ? 'ES256' : 'RS256'))),
    );
    expect(results.every((keys) => keys.length === 1)).toBe(true);
    expect(server.requests).toBe(1);
    // reload() during nothing in flight makes exactly one more request.
    await Promise.all([jwks.reload(), jwks.reload(), jwks.reload()]);
    expect(server.requests).toBe(2);
  });
});

describe('RemoteJwks failures', () => {
  it('times out on a server that never answers', async () => {
    const server = await startServer(() => {
      // Never respond.
    });
    const jwks = remote(server, { timeoutMs: 200 });
    const started = Date.now();
    await expect(async () => jwks.verificationKeys(header('ES256'))).rejects.toThrow(JwksUnavailableError);
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(jwks.reload()).rejects.toThrow(/did not answer within 200 ms/);
  });

  it('times out on a body that stalls after the headers', async () => {
    const server = await startServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"keys":[');
    });
    const jwks = remote(server, { timeoutMs: 200 });
    await expect(jwks.reload()).rejects.toThrow(JwksUnavailableError);
  });

  it('keeps serving the last good set when the server answers 500', async () => {
    const server = await startServer(json(toJwks([signer1])));
    const time = clock();
    const jwks = remote(server, { now: time.now, maxAgeSeconds: 60, cooldownSeconds: 30 });
    await jwks.verificationKeys(header('ES256', 'key-1'));
    const fetchedAt = jwks.lastFetchedAt;

    server.handler = json({ error: 'boom' }, 500);
    time.advance(61_000);
    await expect(select(jwks, header('ES256', 'key-1'))).resolves.toHaveLength(1);
    expect(server.requests).toBe(2);
    expect(jwks.lastFetchedAt).toBe(fetchedAt);
    await expect(jwks.reload()).rejects.toThrow(/answered HTTP 500/);

    // Inside the cooldown after a failure the endpoint is left alone; the stale set answers.
    const before = server.requests;
    await expect(select(jwks, header('ES256', 'key-1'))).resolves.toHaveLength(1);
    expect(server.requests).toBe(before);

    // Bad JSON and non-JWKS documents are failures too, never a replacement.
    time.advance(31_000);
    server.handler = json('{"keys": [', 200);
    await expect(select(jwks, header('ES256', 'key-1'))).resolves.toHaveLength(1);
    time.advance(31_000);
    server.handler = json({ notKeys: true });
    await expect(select(jwks, header('ES256', 'key-1'))).resolves.toHaveLength(1);

    // Once the server recovers, the next refetch replaces the set.
    time.advance(31_000);
    server.handler = json(toJwks([signer2]));
    await expect(select(jwks, header('RS256', 'key-2'))).resolves.toHaveLength(1);
    expect(jwks.lastFetchedAt).toBe(time.now());
  });

  it('throws JwksUnavailableError when the server is down and no set was ever fetched', async () => {
    const probe = await startServer(json({}));
    const url = probe.url;
    await probe.close();
    servers.splice(servers.indexOf(probe), 1);
    const jwks = new RemoteJwks(url, { timeoutMs: 2000 });
    await expect(async () => jwks.verificationKeys(header('ES256'))).rejects.toThrow(JwksUnavailableError);
    // Within the cooldown the failure is answered at once, without another attempt.
    await expect(async () => jwks.verificationKeys(header('ES256'))).rejects.toThrow(/could not be fetched/);
  });

  it('throws JwksInvalidError for a bad document when no set was ever fetched', async () => {
    const server = await startServer(json('not json'));
    await expect(async () => remote(server).verificationKeys(header('ES256'))).rejects.toThrow(
      JwksInvalidError,
    );
    server.handler = json({ keys: 'nope' });
    await expect(remote(server).reload()).rejects.toThrow(/no "keys" array/);
    server.handler = json({ keys: [{ kty: 'oct', k: 'AAAA' }] });
    await expect(remote(server).reload()).rejects.toThrow(/no usable signature key/);
  });

  it('refuses an oversized response, declared or streamed', async () => {
    const big = JSON.stringify({ keys: [exportJwk(signer1)], padding: 'x'.repeat(10_000) });
    const declared = await startServer(json(big));
    await expect(remote(declared, { maxResponseBytes: 4096 }).reload()).rejects.toThrow(JwksInvalidError);

    const streamed = await startServer((_request, response) => {
      // Chunked, no content-length: the cap must hold while reading.
      response.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 20; i++) response.write('x'.repeat(1024));
      response.end();
    });
    await expect(remote(streamed, { maxResponseBytes: 4096 }).reload()).rejects.toThrow(
      /larger than 4096 bytes/,
    );
  });
});

describe('RemoteJwks key rules', () => {
  const hsKey = generateKey('HS256', { kid: 'hs' });
  const rsaForHs: Jwk = { ...exportJwk(signer2), kid: 'rsa-as-hs', alg: 'HS256' };
  const encKey: Jwk = { ...exportJwk(generateKey('ES256')), kid: 'enc', use: 'enc' };
  const broken: Jwk = { kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'AAAA', kid: 'broken' };

  it('never imports an HS key from a JWKS, in any disguise', async () => {
    const server = await startServer(
      json({ keys: [exportJwk(hsKey, { private: true }), rsaForHs, exportJwk(signer1)] }),
    );
    const jwks = remote(server);
    await expect(async () => jwks.verificationKeys(header('HS256', 'hs'))).rejects.toThrow(KeyNotFoundError);
    await expect(async () => jwks.verificationKeys(header('HS256', 'rsa-as-hs'))).rejects.toThrow(
      KeyNotFoundError,
    );
    await expect(async () => jwks.verificationKeys(header('HS256'))).rejects.toThrow(
      AlgorithmNotAllowedError,
    );
    await expect(select(jwks, header('ES256', 'key-1'))).resolves.toHaveLength(1);
  });

  it('skips keys for encryption and invalid keys without losing the rest of the set', async () => {
    const server = await startServer(json({ keys: [encKey, broken, 'junk', null, exportJwk(signer3)] }));
    const jwks = remote(server);
    await expect(select(jwks, header('EdDSA', 'key-3'))).resolves.toHaveLength(1);
    await expect(async () => jwks.verificationKeys(header('ES256', 'enc'))).rejects.toThrow(KeyNotFoundError);
    await expect(async () => jwks.verificationKeys(header('ES256', 'broken'))).rejects.toThrow(
      KeyNotFoundError,
    );
  });

  it('drops private members a careless server publishes: nothing fetched can sign', async () => {
    const server = await startServer(json({ keys: [exportJwk(signer1, { private: true })] }));
    const [key] = await remote(server).verificationKeys(header('ES256', 'key-1'));
    expect(key?.type).toBe('public');
    expect(key?.signing).toBeUndefined();
  });

  it('binds RSA keys without alg to RS256 by default, or to each RSA algorithm allowed', async () => {
    const { alg: _alg, ...noAlg } = exportJwk(signer2);
    const server = await startServer(json({ keys: [noAlg, exportJwk(signer1)] }));
    const byDefault = remote(server);
    await expect(select(byDefault, header('RS256', 'key-2'))).resolves.toHaveLength(1);
    await expect(async () => byDefault.verificationKeys(header('PS256', 'key-2'))).rejects.toThrow(
      AlgorithmNotAllowedError,
    );

    const both = remote(server, { algorithms: ['PS256', 'RS256'] });
    const [ps] = await both.verificationKeys(header('PS256', 'key-2'));
    const [rs] = await both.verificationKeys(header('RS256', 'key-2'));
    expect(ps?.alg).toBe('PS256');
    expect(rs?.alg).toBe('RS256');
    // ES256 is not in the allowed list: its key is skipped.
    await expect(async () => both.verificationKeys(header('ES256', 'key-1'))).rejects.toThrow(
      KeyNotFoundError,
    );
  });

  it('offers every key when a published set repeats a kid for one algorithm', async () => {
    const twin = generateKey('ES256', { kid: 'key-1' });
    const server = await startServer(json(toJwks([signer1, twin])));
    const keys = await select(remote(server), header('ES256', 'key-1'));
    expect(keys).toHaveLength(2);
    if (twin.signing === undefined) throw new Error('setup');
    const decoded = decodeJws(signJws({ kid: 'key-1' }, { sub: 't' }, twin.signing));
    expect(keys.some((key) => verifyJws(decoded, key.verifying))).toBe(true);
  });

  it('validates its configuration', () => {
    expect(() => new RemoteJwks('ftp://example.com/jwks')).toThrow(ConfigError);
    expect(() => new RemoteJwks('not a url')).toThrow(ConfigError);
    expect(() => new RemoteJwks('http://idp.example.com/jwks')).toThrow(/use https/);
    expect(new RemoteJwks('http://idp.example.com/jwks', { allowHttp: true }).url).toContain(
      'idp.example.com',
    );
    expect(() => new RemoteJwks('https://idp.example.com/jwks', { algorithms: ['HS256'] })).toThrow(
      ConfigError,
    );
    expect(() => new RemoteJwks('https://idp.example.com/jwks', { timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('uses an injected fetch', async () => {
    let calls = 0;
    const fakeFetch: typeof fetch = async () => {
      calls++;
      return new Response(JSON.stringify(toJwks([signer1])), { status: 200 });
    };
    const jwks = new RemoteJwks('https://idp.example.com/jwks', { fetch: fakeFetch });
    const keys: readonly TesseraKey[] = await jwks.verificationKeys(header('ES256'));
    expect(keys).toHaveLength(1);
    expect(calls).toBe(1);
  });
});

describe('RemoteJwks hardening', () => {
  it('does not follow a redirect, even to a host serving a valid set', async () => {
    const target = await startServer(json(toJwks([signer1])));
    const server = await startServer((_request, response) => {
      response.writeHead(302, { location: target.url });
      response.end();
    });
    const jwks = remote(server);
    await expect(jwks.reload()).rejects.toThrow(JwksUnavailableError);
    await expect(jwks.reload()).rejects.toThrow(/redirect \(HTTP 302\); redirects are not followed/);
    expect(target.requests).toBe(0);
    for (const status of [301, 303, 307, 308]) {
      server.handler = (_request, response) => {
        response.writeHead(status, { location: target.url });
        response.end();
      };
      await expect(jwks.reload()).rejects.toThrow(`HTTP ${status}`);
    }
    expect(target.requests).toBe(0);
  });

  it('serves a set that cannot be refetched for maxStaleSeconds past its age, then fails closed', async () => {
    const server = await startServer(json(toJwks([signer1])));
    const time = clock();
    const jwks = remote(server, {
      now: time.now,
      maxAgeSeconds: 60,
      cooldownSeconds: 10,
      maxStaleSeconds: 120,
    });
    await expect(select(jwks, header('ES256', 'key-1'))).resolves.toHaveLength(1);
    server.handler = json({ error: 'down' }, 503);
    // Stale but inside the bound: the last good set answers.
    time.advance(61_000);
    await expect(select(jwks, header('ES256', 'key-1'))).resolves.toHaveLength(1);
    time.advance(100_000); // 161 s old: still inside 60 + 120
    await expect(select(jwks, header('ES256', 'key-1'))).resolves.toHaveLength(1);
    // Past maxAge + maxStale: fail closed, both on a refetch and inside the cooldown.
    time.advance(20_000); // 181 s
    await expect(select(jwks, header('ES256', 'key-1'))).rejects.toThrow(JwksUnavailableError);
    await expect(select(jwks, header('ES256', 'key-1'))).rejects.toThrow(/past maxStaleSeconds/);
    // The endpoint recovers: the next refetch (after the cooldown) serves again.
    server.handler = json(toJwks([signer1]));
    time.advance(11_000);
    await expect(select(jwks, header('ES256', 'key-1'))).resolves.toHaveLength(1);
  });

  it('bounds staleness by default (one hour past maxAge) and refuses unknown options', async () => {
    const server = await startServer(json(toJwks([signer1])));
    const time = clock();
    const jwks = remote(server, { now: time.now, maxAgeSeconds: 60 });
    await select(jwks, header('ES256', 'key-1'));
    server.handler = json({}, 500);
    time.advance((60 + 3600 - 5) * 1000);
    await expect(select(jwks, header('ES256', 'key-1'))).resolves.toHaveLength(1);
    time.advance(31_000);
    await expect(select(jwks, header('ES256', 'key-1'))).rejects.toThrow(JwksUnavailableError);
    expect(() => new RemoteJwks('https://idp.example.com/jwks', { maxStale: 5 } as never)).toThrow(
      /Unknown option 'maxStale'.*maxStaleSeconds/,
    );
    expect(() => new RemoteJwks('https://idp.example.com/jwks', { maxStaleSeconds: -1 })).toThrow(
      ConfigError,
    );
  });
});
