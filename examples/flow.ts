/** The walk every example's test takes: login → protected → refresh (rotating) → cookie login → CSRF refresh → logout. */
import { expect } from 'vitest';

const CREDS = { username: 'alice', password: 'wonderland' };

const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

const cookieValue = (response: Response, name: string) =>
  response.headers
    .getSetCookie()
    .find((c) => c.startsWith(`${name}=`))
    ?.slice(name.length + 1)
    .split(';', 1)[0];

export async function walkThrough(url: string): Promise<void> {
  expect((await postJson(`${url}/login`, { ...CREDS, password: 'nope' })).status).toBe(401);

  const login = await postJson(`${url}/login`, CREDS);
  expect(login.status).toBe(200);
  const { access_token, refresh_token } = (await login.json()) as Record<string, string>;

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const protectedRoute = await fetch(`${url}/protected`, { headers: bearer(access_token!) });
  expect(await protectedRoute.json()).toEqual({ logged_in_as: 'alice' });
  expect((await fetch(`${url}/protected`)).status).toBe(401);

  // The refresh handler rotates: a new pair, and the new refresh token refreshes on.
  const refreshed = await fetch(`${url}/auth/refresh`, { method: 'POST', headers: bearer(refresh_token!) });
  expect(refreshed.status).toBe(200);
  expect(refreshed.headers.get('cache-control')).toBe('no-store');
  const renewedPair = (await refreshed.json()) as Record<string, string>;
  expect(Object.keys(renewedPair).sort()).toEqual(['access_token', 'refresh_token']);
  expect(
    await (await fetch(`${url}/protected`, { headers: bearer(renewedPair.access_token!) })).json(),
  ).toEqual({
    logged_in_as: 'alice',
  });
  const again = await fetch(`${url}/auth/refresh`, {
    method: 'POST',
    headers: bearer(renewedPair.refresh_token!),
  });
  expect(again.status).toBe(200);
  const latest = (await again.json()) as Record<string, string>;

  const cookieLogin = await postJson(`${url}/login/cookies`, CREDS);
  expect(cookieLogin.status).toBe(200);
  const names = ['access_token_cookie', 'csrf_access_token', 'refresh_token_cookie', 'csrf_refresh_token'];
  expect(cookieLogin.headers.getSetCookie().map((c) => c.split('=', 1)[0])).toEqual(names);
  // The refresh cookie is only sent to the refresh route.
  expect(cookieLogin.headers.getSetCookie()[2]).toContain('Path=/auth/refresh');
  const jar = names.map((name) => `${name}=${cookieValue(cookieLogin, name)}`).join('; ');
  expect(await (await fetch(`${url}/protected`, { headers: { cookie: jar } })).json()).toEqual({
    logged_in_as: 'alice',
  });

  const noCsrf = await fetch(`${url}/auth/refresh`, { method: 'POST', headers: { cookie: jar } });
  expect(noCsrf.status).toBe(403);
  expect(await noCsrf.json()).toEqual({ msg: 'The CSRF token is missing', code: 'csrf_missing' });
  const withCsrf = await fetch(`${url}/auth/refresh`, {
    method: 'POST',
    headers: { cookie: jar, 'x-csrf-token': cookieValue(cookieLogin, 'csrf_refresh_token')! },
  });
  expect(withCsrf.status).toBe(200);
  expect(await withCsrf.json()).toMatchObject({ refreshed: true });
  expect(withCsrf.headers.getSetCookie().map((c) => c.split('=', 1)[0])).toEqual(names);
  expect(cookieValue(withCsrf, 'access_token_cookie')).toBeTruthy();

  // Logout revokes the session: its latest refresh token no longer refreshes.
  const logout = await fetch(`${url}/logout`, { method: 'POST', headers: bearer(latest.access_token!) });
  expect(logout.status).toBe(200);
  const cleared = logout.headers.getSetCookie();
  expect(cleared.map((c) => c.split('=', 1)[0])).toEqual(names);
  for (const c of cleared) expect(c).toContain('=; Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  const revoked = await fetch(`${url}/auth/refresh`, {
    method: 'POST',
    headers: bearer(latest.refresh_token!),
  });
  expect(revoked.status).toBe(401);
  expect(await revoked.json()).toEqual({ msg: 'The token has been revoked', code: 'token_revoked' });
}
