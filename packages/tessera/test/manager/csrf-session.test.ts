/**
 * One CSRF value per session. Two tabs share one cookie jar: tab A reads the
 * CSRF cookie, tab B refreshes (new cookies), then tab A sends its request with
 * the value it read. With a CSRF value per token, tab A got 403 csrf_mismatch
 * although nothing was wrong; with one value per session it goes through.
 */
import { MemoryStore, TokenManager } from 'tessera-auth';
import { createFetchAuth } from 'tessera-auth/fetch';
import { describe, expect, it } from 'vitest';

const SECRET = 'csrf-session-test-secret-0123456789abcdefgh';

/** The cookie jar of one browser: Set-Cookie lines applied in order. */
class Jar {
  readonly #cookies = new Map<string, string>();
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = (pair as string).indexOf('=');
      this.#cookies.set((pair as string).slice(0, eq), (pair as string).slice(eq + 1));
    }
  }
  get(name: string): string | undefined {
    return this.#cookies.get(name);
  }
  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

function setup() {
  const manager = new TokenManager({
    secret: SECRET,
    store: new MemoryStore(),
    tokenLocation: ['cookies'],
    cookies: { secure: false, refreshPath: '/' },
    rotation: { enabled: true, graceSeconds: 5 },
  });
  const auth = createFetchAuth(manager);
  const refresh = auth.refresh();
  const protectedRoute = auth.jwtRequired(undefined, (_req, jwt) => Response.json({ sub: jwt?.identity }));
  return { manager, refresh, protectedRoute };
}

async function signIn(manager: TokenManager, jar: Jar): Promise<void> {
  const pair = await manager.createTokenPair({ identity: 'alice' });
  const { setAccessCookies, setRefreshCookies } = await import('tessera-auth');
  const headers = new Headers();
  for (const c of [
    ...setAccessCookies(manager.config, pair.accessToken),
    ...setRefreshCookies(manager.config, pair.refreshToken),
  ]) {
    headers.append('set-cookie', c);
  }
  jar.take(new Response(null, { headers }));
}

describe('one CSRF value per session', () => {
  it('the pair and every refreshed token carry the same CSRF value', async () => {
    const { manager } = setup();
    const pair = await manager.createTokenPair({ identity: 'alice' });
    const access = await manager.decodeToken(pair.accessToken);
    const refresh = await manager.decodeToken(pair.refreshToken);
    expect(typeof access.csrf).toBe('string');
    expect(access.csrf).toBe(refresh.csrf);
    const next = await manager.refreshTokens(pair.refreshToken);
    expect((await manager.decodeToken(next.accessToken)).csrf).toBe(refresh.csrf);
    expect((await manager.decodeToken(next.refreshToken as string)).csrf).toBe(refresh.csrf);
  });

  it('a tab that read the CSRF cookie before another tab refreshed is not refused', async () => {
    const { manager, refresh, protectedRoute } = setup();
    const jar = new Jar();
    await signIn(manager, jar);
    // Tab A reads the CSRF cookies now.
    const accessCsrfSeenByA = jar.get('csrf_access_token') as string;
    const refreshCsrfSeenByA = jar.get('csrf_refresh_token') as string;
    expect(accessCsrfSeenByA).toBeTruthy();
    // Tab B refreshes; the jar gets the new cookies.
    const byB = await refresh(
      new Request('http://127.0.0.1/auth/refresh', {
        method: 'POST',
        headers: { cookie: jar.header(), 'x-csrf-token': jar.get('csrf_refresh_token') as string },
      }),
    );
    expect(byB.status).toBe(200);
    jar.take(byB);
    // Tab A's requests go out with the new cookies and the values it read before.
    const protectedByA = await protectedRoute(
      new Request('http://127.0.0.1/me', {
        method: 'POST',
        headers: { cookie: jar.header(), 'x-csrf-token': accessCsrfSeenByA },
      }),
    );
    expect(protectedByA.status).toBe(200);
    const refreshByA = await refresh(
      new Request('http://127.0.0.1/auth/refresh', {
        method: 'POST',
        headers: { cookie: jar.header(), 'x-csrf-token': refreshCsrfSeenByA },
      }),
    );
    expect(refreshByA.status).toBe(200);
  });

  it('the flask-jwt-extended profile keeps one value per token, as Flask-JWT-Extended mints them', async () => {
    const manager = new TokenManager({
      secret: SECRET,
      profile: 'flask-jwt-extended',
      store: new MemoryStore(),
      tokenLocation: ['cookies'],
      rotation: { enabled: true },
    });
    const pair = await manager.createTokenPair({ identity: 'alice' });
    const access = await manager.decodeToken(pair.accessToken);
    const refresh = await manager.decodeToken(pair.refreshToken);
    expect(typeof access.csrf).toBe('string');
    expect(access.csrf).not.toBe(refresh.csrf);
  });

  it('a wrong CSRF value is still refused', async () => {
    const { manager, protectedRoute } = setup();
    const jar = new Jar();
    await signIn(manager, jar);
    const res = await protectedRoute(
      new Request('http://127.0.0.1/me', {
        method: 'POST',
        headers: { cookie: jar.header(), 'x-csrf-token': 'not-the-value' },
      }),
    );
    expect(res.status).toBe(403);
  });
});
