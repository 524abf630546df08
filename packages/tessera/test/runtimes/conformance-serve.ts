/**
 * The conformance server served by Bun, Deno or Node (serve-here.ts); the
 * configuration is read from the JSON file named by the last argument.
 */
import { type ConformanceServerConfig, conformanceServer } from './conformance-app.js';
import { lastArgument, readText, serveHere } from './serve-here.js';

await serveHere(conformanceServer(JSON.parse(await readText(lastArgument())) as ConformanceServerConfig));
