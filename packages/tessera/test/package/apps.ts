/**
 * The fresh applications the packed-package test installs `tessera-auth` into:
 * one per framework, each written as a user would write it (strict TypeScript,
 * no casts), compiled under every module mode a TypeScript app may use.
 *
 * Every app mints a token itself, serves GET /protected on 127.0.0.1 (any port)
 * and prints one JSON line, {@link AppReport}, once it listens.
 */

/** The frameworks the test builds an app for. */
export const FRAMEWORKS = ['express', 'fastify', 'hono', 'koa', 'fetch', 'node', 'nestjs'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

/** The module modes, each with the tsconfig options and package type that go with it. */
export const MODES = {
  nodenext: { type: 'module', compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' } },
  node16: { type: 'commonjs', compilerOptions: { module: 'node16', moduleResolution: 'node16' } },
  // NestJS's default: CommonJS output with TypeScript's default (node10) resolution.
  commonjs: { type: 'commonjs', compilerOptions: { module: 'commonjs' } },
  bundler: { type: 'module', compilerOptions: { module: 'esnext', moduleResolution: 'bundler' } },
} as const;
export type Mode = keyof typeof MODES;

/** What an app prints once it listens. */
export interface AppReport {
  readonly port: number;
  readonly token: string;
  /** How Node loaded the app: 'cjs' or 'esm'. */
  readonly format: 'cjs' | 'esm';
  /** The file `require.resolve('tessera-auth')` names in a CommonJS app (null in ESM). */
  readonly resolved: string | null;
}

/** Packages each app links from the workspace's node_modules (the tarball brings tessera-auth). */
export const APP_DEPENDENCIES: Record<Framework, readonly string[]> = {
  express: ['express', '@types/express'],
  fastify: ['fastify'],
  hono: ['hono', '@hono/node-server'],
  koa: ['koa', '@types/koa'],
  fetch: [],
  node: [],
  nestjs: [
    '@nestjs/common',
    '@nestjs/core',
    '@nestjs/platform-express',
    'reflect-metadata',
    'rxjs',
    'express',
    '@types/express',
  ],
};

/**
 * The app's tsconfig.json: strict, as a new project starts (`tsc --init` and the
 * NestJS starter both skip library checks; {@link declarationsSource} checks ours).
 */
export function appTsconfig(framework: Framework | 'declarations', mode: Mode): object {
  return {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2022'],
      ...MODES[mode].compilerOptions,
      strict: true,
      esModuleInterop: true,
      skipLibCheck: framework !== 'declarations',
      types: ['node'],
      rootDir: 'src',
      outDir: 'dist',
      ...(framework === 'nestjs' ? { experimentalDecorators: true, emitDecoratorMetadata: true } : {}),
    },
    include: ['src'],
  };
}

// Shared by every app: the user type, a manager with a userLookup, and the report line.
const COMMON = `
import { TokenManager } from 'tessera-auth';

interface User {
  readonly name: string;
}

const manager = new TokenManager<User>({
  secret: 'tessera-package-test-secret-0123456789',
  callbacks: { userLookup: (_header, payload) => ({ name: String(payload.sub) }) },
});

async function report(port: number): Promise<void> {
  const token = await manager.createAccessToken({ identity: 'alice' });
  const format = typeof require === 'function' && typeof module === 'object' ? 'cjs' : 'esm';
  const resolved = format === 'cjs' ? require.resolve('tessera-auth') : null;
  console.log(JSON.stringify({ port, token, format, resolved }));
}
`;

const SOURCES: Record<Framework, string> = {
  express: `
import express from 'express';
import { createExpressAuth } from 'tessera-auth/express';
${COMMON}
const auth = createExpressAuth(manager);
const app = express();
app.get('/protected', auth.jwtRequired(), (req, res) => {
  const user: User | undefined = auth.getCurrentUser(req);
  res.json({ logged_in_as: auth.getJwtIdentity(req), user: user?.name });
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address !== null && typeof address === 'object') void report(address.port);
});
`,
  fastify: `
import Fastify from 'fastify';
import { createFastifyAuth } from 'tessera-auth/fastify';
${COMMON}
const auth = createFastifyAuth(manager);

async function main(): Promise<void> {
  const app = Fastify();
  await app.register(auth.plugin);
  app.get('/protected', { preHandler: auth.jwtRequired() }, async (request) => {
    const user: User | undefined = auth.getCurrentUser(request);
    return { logged_in_as: auth.getJwtIdentity(request), user: user?.name };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address !== null && typeof address === 'object') await report(address.port);
}
void main();
`,
  hono: `
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createHonoAuth } from 'tessera-auth/hono';
${COMMON}
const auth = createHonoAuth(manager);
const app = new Hono();
app.get('/protected', auth.jwtRequired(), (c) => {
  const user: User | undefined = auth.getCurrentUser(c);
  return c.json({ logged_in_as: String(auth.getJwtIdentity(c)), user: user?.name });
});
serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => void report(info.port));
`,
  koa: `
import Koa from 'koa';
import { createKoaAuth } from 'tessera-auth/koa';
${COMMON}
const auth = createKoaAuth(manager);
const app = new Koa();
app.use(auth.jwtRequired());
app.use((ctx) => {
  const user: User | undefined = auth.getCurrentUser(ctx);
  ctx.body = { logged_in_as: auth.getJwtIdentity(ctx), user: user?.name };
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address !== null && typeof address === 'object') void report(address.port);
});
`,
  fetch: `
import { createFetchAuth, serveFetch } from 'tessera-auth/fetch';
${COMMON}
const auth = createFetchAuth(manager);
const handler = auth.jwtRequired({}, (_request, jwt) =>
  Response.json({ logged_in_as: jwt?.identity, user: jwt?.user?.name }),
);

async function main(): Promise<void> {
  const served = await serveFetch(handler, { port: 0, hostname: '127.0.0.1' });
  await report(served.port);
}
void main();
`,
  node: `
import { createServer } from 'node:http';
import { createNodeAuth } from 'tessera-auth/node';
${COMMON}
const auth = createNodeAuth(manager);
const protectedRoute = auth.jwtRequired({}, (req, res) => {
  const user: User | undefined = req.jwt.user;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ logged_in_as: req.jwt.identity, user: user?.name }));
});
const server = createServer((req, res) => {
  if (req.url === '/protected') return protectedRoute(req, res);
  res.statusCode = 404;
  res.end();
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address !== null && typeof address === 'object') void report(address.port);
});
`,
  nestjs: `
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CurrentJwt, CurrentUser, JwtRequired, TesseraModule } from 'tessera-auth/nestjs';
import type { JwtContext } from 'tessera-auth/nestjs';
${COMMON}
@Controller()
class ProtectedController {
  @Get('protected')
  @JwtRequired()
  protectedRoute(@CurrentJwt() jwt: JwtContext<User>, @CurrentUser() user: User) {
    return { logged_in_as: jwt.identity, user: user.name };
  }
}

@Module({ imports: [TesseraModule.forRoot({ manager })], controllers: [ProtectedController] })
class AppModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  if (address !== null && typeof address === 'object') await report(address.port);
}
void main();
`,
};

/** Every entry point of the package, for the declarations check. */
export const ENTRY_POINTS = [
  'tessera-auth',
  'tessera-auth/core',
  'tessera-auth/express',
  'tessera-auth/fastify',
  'tessera-auth/hono',
  'tessera-auth/koa',
  'tessera-auth/fetch',
  'tessera-auth/node',
  'tessera-auth/nestjs',
  'tessera-auth/otel',
  'tessera-auth/stores/sql',
  'tessera-auth/stores/redis',
] as const;

/** Packages the declarations check links: every peer whose types the entry points import. */
export const DECLARATION_DEPENDENCIES: readonly string[] = [
  ...new Set([
    ...Object.values(APP_DEPENDENCIES).flat(),
    '@opentelemetry/api',
    'kysely',
    'ioredis',
    'pg',
    '@types/pg',
    'mysql2',
    'better-sqlite3',
    '@types/better-sqlite3',
  ]),
];

/** A program that imports every entry point, so tsc checks all of the package's declarations. */
export function declarationsSource(): string {
  const imports = ENTRY_POINTS.map((entry, i) => `import * as entry${i} from '${entry}';`).join('\n');
  const names = ENTRY_POINTS.map((_, i) => `entry${i}`).join(', ');
  return `${imports}\nexport const entries: readonly object[] = [${names}];\n`;
}

/** The app's one source file. */
export function appSource(framework: Framework): string {
  return SOURCES[framework].trimStart();
}
