/** The walk every example's test takes: login → protected → refresh → cookie login → CSRF POST → logout. */
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

  const refreshed = await fetch(`${url}/refresh`, { method: 'POST', headers: bearer(refresh_token!) });
  expect(refreshed.status).toBe(200);
  const { access_token: renewed } = (await refreshed.json()) as Record<string, string>;
  expect(await (await fetch(`${url}/protected`, { headers: bearer(renewed!) })).json()).toEqual({
    logged_in_as: 'alice',
  });

  const cookieLogin = await postJson(`${url}/login/cookies`, CREDS);
  expect(cookieLogin.status).toBe(200);
  const names = ['access_token_cookie', 'csrf_access_token', 'refresh_token_cookie', 'csrf_refresh_token'];
  expect(cookieLogin.headers.getSetCookie().map((c) => c.split('=', 1)[0])).toEqual(names);
  const jar = names.map((name) => `${name}=${cookieValue(cookieLogin, name)}`).join('; ');
  expect(await (await fetch(`${url}/protected`, { headers: { cookie: jar } })).json()).toEqual({
    logged_in_as: 'alice',
  });

  const noCsrf = await fetch(`${url}/refresh`, { method: 'POST', headers: { cookie: jar } });
  expect(noCsrf.status).toBe(403);
  const withCsrf = await fetch(`${url}/refresh`, {
    method: 'POST',
    headers: { cookie: jar, 'x-csrf-token': cookieValue(cookieLogin, 'csrf_refresh_token')! },
  });
  expect(withCsrf.status).toBe(200);
  expect(cookieValue(withCsrf, 'access_token_cookie')).toBeTruthy();

  const logout = await fetch(`${url}/logout`, { method: 'POST' });
  expect(logout.status).toBe(200);
  const cleared = logout.headers.getSetCookie();
  expect(cleared.map((c) => c.split('=', 1)[0])).toEqual(names);
  for (const c of cleared) expect(c).toContain('=; Expires=Thu, 01 Jan 1970 00:00:00 GMT');
}
