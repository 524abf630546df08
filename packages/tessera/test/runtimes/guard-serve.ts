/**
 * The guard app served by Bun, Deno or Node (serve-here.ts); the configuration
 * is the last argument.
 */
import { type GuardAppConfig, guardApp } from './guard-app.js';
import { lastArgument, serveHere } from './serve-here.js';

await serveHere(guardApp(JSON.parse(lastArgument() || '{}') as GuardAppConfig));
