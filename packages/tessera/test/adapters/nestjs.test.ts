/**
 * The NestJS adapter on a real Nest app (@nestjs/platform-express) over HTTP.
 * Decorators are applied as plain calls (the repo compiles without
 * experimentalDecorators); the packed-package test compiles a NestJS app that
 * uses the decorator syntax.
 */
import type { INestApplication } from '@nestjs/common';
import {
  type ArgumentsHost,
  Body,
  Catch,
  Controller,
  type ExceptionFilter,
  Get,
  HttpCode,
  Inject,
  Module,
  Post,
  Res,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Response } from 'express';
import { ConfigError, TokenManager } from 'tessera-auth';
import {
  CurrentIdentity,
  CurrentJwt,
  CurrentUser,
  type JwtContext,
  JwtGuard,
  JwtRefusedException,
  JwtRequired,
  type RouteDecorator,
  TesseraAuth,
  TesseraModule,
} from 'tessera-auth/nestjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterSuite, SECRET, type Started, testManager, type User } from './scenarios.js';

type Decorator = MethodDecorator | RouteDecorator;

/** Apply method decorators (bottom-up, as the syntax does) and parameter decorators. */
function route(
  target: { prototype: object },
  name: string,
  decorators: readonly Decorator[],
  params: readonly ParameterDecorator[] = [],
): void {
  const proto = target.prototype;
  for (const [index, decorate] of params.entries()) decorate(proto, name, index);
  const descriptor = Object.getOwnPropertyDescriptor(proto, name);
  if (descriptor === undefined) throw new Error(`no method ${name}`);
  for (const decorate of [...decorators].reverse()) decorate(proto, name, descriptor);
}

async function listenNest(app: INestApplication): Promise<Started> {
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { url, close: () => app.close() };
}

/** The adapter suite's routes as a Nest controller. */
async function buildApp(manager: TokenManager<User> = testManager()): Promise<INestApplication> {
  class AppController {
    readonly auth: TesseraAuth<User>;
    constructor(auth: TesseraAuth<User>) {
      this.auth = auth;
    }
    protectedGet(identity: unknown) {
      return { logged_in_as: identity };
    }
    protectedPost(identity: unknown) {
      return { logged_in_as: identity };
    }
    optional(jwt: JwtContext<User> | null) {
      return { logged_in_as: jwt?.identity ?? null };
    }
    async refresh(jwt: JwtContext<User>) {
      return { access_token: await this.auth.manager.createAccessToken({ identity: jwt.identity }) };
    }
    json(identity: unknown, body: unknown) {
      return { logged_in_as: identity, body };
    }
    user(user: User | undefined) {
      return { user };
    }
    appCookie(identity: unknown) {
      return { logged_in_as: identity };
    }
    async login(res: Response) {
      res.cookie('theme', 'dark');
      this.auth.setAccessCookies(res, await manager.createAccessToken({ identity: 'alice' }));
      this.auth.setRefreshCookies(res, await manager.createRefreshToken({ identity: 'alice' }));
      return { login: true };
    }
    logout(res: Response) {
      this.auth.unsetJwtCookies(res);
      return { logout: true };
    }
  }
  Controller()(AppController);
  Inject(TesseraAuth)(AppController, undefined, 0);
  route(AppController, 'protectedGet', [Get('protected'), JwtRequired()], [CurrentIdentity()]);
  route(
    AppController,
    'protectedPost',
    [Post('protected'), HttpCode(200), JwtRequired()],
    [CurrentIdentity()],
  );
  route(AppController, 'optional', [Get('optional'), JwtRequired({ optional: true })], [CurrentJwt()]);
  route(
    AppController,
    'refresh',
    [Post('refresh'), HttpCode(200), JwtRequired({ refresh: true })],
    [CurrentJwt()],
  );
  route(
    AppController,
    'json',
    [Post('json'), HttpCode(200), JwtRequired({ locations: ['json'] })],
    [CurrentIdentity(), Body()],
  );
  route(AppController, 'user', [Get('user'), JwtRequired()], [CurrentUser()]);
  route(AppController, 'appCookie', [Get('app-cookie'), JwtRequired()], [CurrentIdentity()]);
  route(AppController, 'login', [Post('login/cookies'), HttpCode(200)], [Res({ passthrough: true })]);
  route(AppController, 'logout', [Post('logout'), HttpCode(200)], [Res({ passthrough: true })]);

  class AppModule {}
  Module({ imports: [TesseraModule.forRoot({ manager })], controllers: [AppController] })(AppModule);

  const app = await NestFactory.create(AppModule, { logger: false });
  // Express middleware runs before Nest's guards: the app's cookie is set first.
  app.use('/app-cookie', (_req: unknown, res: Response, next: () => void) => {
    res.cookie('app', '1');
    next();
  });
  return app;
}

adapterSuite('nestjs', async () => listenNest(await buildApp()));

describe('nestjs adapter specifics', () => {
  const manager = new TokenManager<User>({
    secret: SECRET,
    tokenLocation: ['headers', 'query_string'],
    callbacks: { userLookup: (_header, payload) => ({ name: String(payload.sub) }) },
  });
  let server: Started;
  const seen: string[] = [];

  beforeAll(async () => {
    class FreshController {
      fresh(identity: unknown) {
        return { fresh_as: identity };
      }
      anyType(jwt: JwtContext<User>) {
        return { type: jwt.payload.type };
      }
      query(identity: unknown) {
        return { query_as: identity };
      }
      plainGuard(jwt: JwtContext<User>) {
        return { plain: jwt.identity };
      }
    }
    Controller()(FreshController);
    route(FreshController, 'fresh', [Get('fresh'), JwtRequired({ fresh: true })], [CurrentIdentity()]);
    route(FreshController, 'anyType', [Get('any-type'), JwtRequired({ verifyType: false })], [CurrentJwt()]);
    route(
      FreshController,
      'query',
      [Get('query'), JwtRequired({ locations: 'query_string' })],
      [CurrentIdentity()],
    );
    // UseGuards(JwtGuard) without JwtRequired: the default options (a valid access token).
    const { UseGuards } = await import('@nestjs/common');
    route(FreshController, 'plainGuard', [Get('plain-guard'), UseGuards(JwtGuard)], [CurrentJwt()]);

    // Every route of this controller is protected by the class decorator.
    class AdminController {
      stats(user: User) {
        return { admin: user.name };
      }
    }
    Controller('admin')(AdminController);
    JwtRequired()(AdminController);
    route(AdminController, 'stats', [Get('stats')], [CurrentUser()]);

    // An app's own filter still sees the refusal, after the guard answered.
    class SeenFilter implements ExceptionFilter {
      catch(exception: unknown, host: ArgumentsHost) {
        if (exception instanceof JwtRefusedException) seen.push(exception.code);
        const res = host.switchToHttp().getResponse<Response>();
        if (!res.headersSent) res.status(500).json({ unexpected: true });
      }
    }
    Catch()(SeenFilter);

    class SpecificsModule {}
    Module({
      imports: [TesseraModule.forRoot({ manager })],
      controllers: [FreshController, AdminController],
    })(SpecificsModule);
    const app = await NestFactory.create(SpecificsModule, { logger: false });
    app.useGlobalFilters(new SeenFilter());
    server = await listenNest(app);
  });
  afterAll(async () => {
    await server?.close();
  });

  const get = (path: string, token?: string) =>
    fetch(
      `${server.url}${path}`,
      token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
    );

  it('fresh: refuses a non-fresh token with 401 and the step-up challenge, accepts a fresh one', async () => {
    const stale = await get('/fresh', await manager.createAccessToken({ identity: 'gina' }));
    expect(stale.status).toBe(401);
    expect(stale.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_user_authentication"/);
    expect((await stale.json()).code).toBe('fresh_token_required');
    const fresh = await get('/fresh', await manager.createAccessToken({ identity: 'gina', fresh: true }));
    expect(fresh.status).toBe(200);
    expect(await fresh.json()).toEqual({ fresh_as: 'gina' });
  });

  it('verifyType: false accepts a refresh token where an access token is expected', async () => {
    const refresh = await get('/any-type', await manager.createRefreshToken({ identity: 'hugo' }));
    expect(refresh.status).toBe(200);
    expect(await refresh.json()).toEqual({ type: 'refresh' });
    const strict = await get('/fresh', await manager.createRefreshToken({ identity: 'hugo' }));
    expect(strict.status).toBe(401);
    expect((await strict.json()).code).toBe('wrong_token_type');
  });

  it('locations: the route looks only where it says', async () => {
    const token = await manager.createAccessToken({ identity: 'ivy' });
    const inQuery = await fetch(`${server.url}/query?jwt=${token}`);
    expect(inQuery.status).toBe(200);
    expect(await inQuery.json()).toEqual({ query_as: 'ivy' });
    const inHeader = await get('/query', token);
    expect(inHeader.status).toBe(401);
    expect((await inHeader.json()).code).toBe('authorization_missing');
  });

  it('a controller decorated with JwtRequired protects every route, with the user loaded', async () => {
    const refused = await get('/admin/stats');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer');
    const ok = await get('/admin/stats', await manager.createAccessToken({ identity: 'jay' }));
    expect(await ok.json()).toEqual({ admin: 'jay' });
  });

  it('UseGuards(JwtGuard) alone requires a valid access token', async () => {
    expect((await get('/plain-guard')).status).toBe(401);
    const ok = await get('/plain-guard', await manager.createAccessToken({ identity: 'kim' }));
    expect(await ok.json()).toEqual({ plain: 'kim' });
  });

  it("answers refusals itself (the app's filter sees JwtRefusedException with the code)", async () => {
    seen.length = 0;
    const expired = await get(
      '/fresh',
      await manager.createAccessToken({ identity: 'lee', fresh: true, expiresIn: -10 }),
    );
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual({ msg: 'The token has expired', code: 'token_expired' });
    expect(seen).toEqual(['token_expired']);
  });

  it('refuses unknown and invalid options when the decorator or module is configured', () => {
    expect(() => JwtRequired({ optinal: true } as never)).toThrow(
      /Unknown option 'optinal' in JwtRequired options; did you mean 'optional'\?/,
    );
    expect(() => JwtRequired({ locations: ['body' as never] })).toThrow(ConfigError);
    expect(() => JwtRequired({ locations: [] })).toThrow(/at least one location/);
    expect(() => TesseraModule.forRoot({ manager, globl: true } as never)).toThrow(
      /Unknown option 'globl' in TesseraModule.forRoot options; did you mean 'global'\?/,
    );
  });

  it('throws a clear error when an accessor is used on a request the guard did not run on', () => {
    const auth = new TesseraAuth(manager);
    expect(() => auth.getJwt({})).toThrow(
      /getJwt\(\) was called on a request that jwtRequired\(\) did not run on/,
    );
  });
});

describe('nestjs refresh endpoint and refusal options', () => {
  const manager = new TokenManager<User>({ secret: SECRET });
  const servers: Started[] = [];
  afterAll(async () => {
    for (const server of servers) await server.close();
  });

  /** A small app: GET /protected and POST /auth/refresh, with these module options. */
  async function start(
    options: Omit<Parameters<typeof TesseraModule.forRoot>[0], 'manager'>,
    filter?: ExceptionFilter,
  ): Promise<string> {
    class SessionController {
      readonly refreshHandler: (req: never, res: object) => Promise<void>;
      constructor(auth: TesseraAuth) {
        this.refreshHandler = auth.refresh();
      }
      whoami(identity: unknown) {
        return { logged_in_as: identity };
      }
      refresh(req: never, res: Response) {
        return this.refreshHandler(req, res);
      }
    }
    Controller()(SessionController);
    Inject(TesseraAuth)(SessionController, undefined, 0);
    route(SessionController, 'whoami', [Get('protected'), JwtRequired()], [CurrentIdentity()]);
    const { Req } = await import('@nestjs/common');
    route(SessionController, 'refresh', [Post('auth/refresh')], [Req(), Res()]);
    class SessionModule {}
    Module({ imports: [TesseraModule.forRoot({ manager, ...options })], controllers: [SessionController] })(
      SessionModule,
    );
    const app = await NestFactory.create(SessionModule, { logger: false });
    if (filter !== undefined) app.useGlobalFilters(filter);
    const server = await listenNest(app);
    servers.push(server);
    return server.url;
  }

  it('refresh() answers new tokens for a refresh token and the profile refusal for an access token', async () => {
    const url = await start({});
    const refreshToken = await manager.createRefreshToken({ identity: 'mia' });
    const ok = await fetch(`${url}/auth/refresh`, {
      method: 'POST',
      headers: { authorization: `Bearer ${refreshToken}` },
    });
    expect(ok.status).toBe(200);
    const { access_token } = (await ok.json()) as { access_token: string };
    const me = await fetch(`${url}/protected`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(await me.json()).toEqual({ logged_in_as: 'mia' });

    const access = await manager.createAccessToken({ identity: 'mia' });
    const refused = await fetch(`${url}/auth/refresh`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access}` },
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    expect((await refused.json()).code).toBe('wrong_token_type');
  });

  it('onError replaces the answer of guarded routes and of the refresh endpoint', async () => {
    const url = await start({
      onError: (error, req, response) => ({
        status: response.status,
        headers: { ...response.headers, 'x-hooked': error.code },
        body: JSON.stringify({ hooked: error.code, path: req.originalUrl ?? null }),
      }),
    });
    const guarded = await fetch(`${url}/protected`);
    expect(guarded.status).toBe(401);
    expect(guarded.headers.get('x-hooked')).toBe('authorization_missing');
    expect(await guarded.json()).toEqual({ hooked: 'authorization_missing', path: '/protected' });
    const refresh = await fetch(`${url}/auth/refresh`, { method: 'POST' });
    expect(refresh.status).toBe(401);
    expect(await refresh.json()).toEqual({ hooked: 'authorization_missing', path: '/auth/refresh' });
  });

  it("errors: 'throw' leaves the answer to the app's exception filter", async () => {
    class AnswerFilter implements ExceptionFilter {
      catch(exception: unknown, host: ArgumentsHost) {
        const res = host.switchToHttp().getResponse<Response>();
        if (!(exception instanceof JwtRefusedException)) {
          res.status(500).json({ unexpected: true });
          return;
        }
        res.status(exception.answer.status).set({ ...exception.answer.headers, 'x-filter': '1' });
        res.send(exception.answer.body);
      }
    }
    Catch()(AnswerFilter);
    const filtered = await start({ errors: 'throw' }, new AnswerFilter());
    const viaFilter = await fetch(`${filtered}/protected`);
    expect(viaFilter.status).toBe(401);
    expect(viaFilter.headers.get('x-filter')).toBe('1');
    expect(viaFilter.headers.get('www-authenticate')).toBe('Bearer');
    expect((await viaFilter.json()).code).toBe('authorization_missing');

    // Without a filter of its own, Nest's default filter answers the status and the code.
    const plain = await start({ errors: 'throw' });
    const viaNest = await fetch(`${plain}/protected`);
    expect(viaNest.status).toBe(401);
    expect(viaNest.headers.get('www-authenticate')).toBeNull();
    expect(await viaNest.json()).toEqual({ statusCode: 401, code: 'authorization_missing' });
  });

  it('refuses a bad errors option when the module is configured', () => {
    expect(() => TesseraModule.forRoot({ manager, errors: 'raise' as never })).toThrow(
      /errors must be 'respond' or 'throw'/,
    );
  });
});
