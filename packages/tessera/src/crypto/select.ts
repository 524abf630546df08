/**
 * Which backend imports new keys, chosen once, at first use: node:crypto when
 * `process.getBuiltinModule('node:crypto')` gives a working module (Node, Bun),
 * Web Crypto otherwise, and also on Cloudflare's workerd (whose `nodejs_compat`
 * node:crypto lacks parts Tessera needs) and on Deno (whose node:crypto is a
 * compatibility layer, slower than its Web Crypto for ECDSA, RSA-PSS and EdDSA
 * as measured by bench/runtimes.ts). Either can be chosen with
 * {@link setCryptoBackend}. Keys remember the backend that made them, so keys of
 * both kinds can live side by side.
 *
 * @module
 */

import { base64UrlToBytes, bytesToBase64Url, isUtf8, utf8Decode, utf8Encode } from '../bytes.js';
import { ConfigError } from '../errors.js';
import type { Codec, CryptoBackend, KeyHandle } from './backend.js';
import { createNodeBackend, nodeCodec, nodeModules } from './node.js';
import { sha256 as portableSha256 } from './sha256.js';
import { createWebBackend } from './web.js';

/** The name of a crypto backend: `node` (node:crypto) or `webcrypto` (`crypto.subtle`). */
export type CryptoBackendName = 'node' | 'webcrypto';

let nodeBackend: CryptoBackend | null | undefined;
let webBackend: CryptoBackend | undefined;
let chosen: CryptoBackend | undefined;

function isWorkerd(): boolean {
  const nav = (globalThis as { navigator?: { userAgent?: unknown } }).navigator;
  return nav?.userAgent === 'Cloudflare-Workers';
}

function isDeno(): boolean {
  return (globalThis as { Deno?: unknown }).Deno !== undefined;
}

function node(): CryptoBackend | undefined {
  if (nodeBackend === undefined) {
    const m = isWorkerd() ? undefined : nodeModules();
    nodeBackend = m === undefined ? null : createNodeBackend(m);
  }
  return nodeBackend ?? undefined;
}

function web(): CryptoBackend {
  if (webBackend === undefined) {
    if (typeof globalThis.crypto?.subtle?.importKey !== 'function') {
      throw new ConfigError('This runtime has neither node:crypto nor Web Crypto (crypto.subtle)');
    }
    webBackend = createWebBackend();
  }
  return webBackend;
}

/** The backend that imports and generates keys from now on. */
export function currentBackend(): CryptoBackend {
  if (chosen === undefined) chosen = (isDeno() ? undefined : node()) ?? web();
  return chosen;
}

/** The backend a key handle belongs to. */
export function backendOf(key: KeyHandle): CryptoBackend {
  const n = node();
  if (n?.owns(key)) return n;
  const w = webBackend;
  if (w?.owns(key)) return w;
  throw new ConfigError(
    'Not a key Tessera made (import it with importSecret, importPem, importJwk or generateKey)',
  );
}

/**
 * The name of the backend new keys use: `node` on Node and Bun, `webcrypto`
 * elsewhere (Deno, Cloudflare Workers, browsers).
 */
export function cryptoBackend(): CryptoBackendName {
  return currentBackend().name;
}

/**
 * Choose the backend for keys imported or generated from now on (keys already
 * made keep theirs). `auto` restores the automatic choice. Mainly for tests and
 * benchmarks: Web Crypto verifies asynchronously, so a Node application gains
 * nothing from it. Throws ConfigError when the backend is not available here.
 */
export function setCryptoBackend(name: CryptoBackendName | 'auto'): void {
  if (name === 'auto') {
    chosen = undefined;
    return;
  }
  if (name === 'node') {
    const n = node();
    if (n === undefined) throw new ConfigError('node:crypto is not available in this runtime');
    chosen = n;
    return;
  }
  if (name === 'webcrypto') {
    chosen = web();
    return;
  }
  throw new ConfigError(`Unknown crypto backend ${JSON.stringify(String(name)).slice(0, 30)}`);
}

const portableCodec: Codec = {
  base64UrlToBytes: (text) => base64UrlToBytes(text) ?? new Uint8Array(0),
  bytesToBase64Url,
  utf8ToBase64Url: (text) => bytesToBase64Url(utf8Encode(text)),
  utf8Decode,
  isUtf8,
};

/**
 * Base64url and UTF-8 for token segments: Node's Buffer on Node and Bun
 * (fastest there), portable code elsewhere (the Buffer of workerd's
 * nodejs_compat and of Deno is slower than the portable decoder).
 */
export const codec: Codec = (() => {
  const m = isWorkerd() || isDeno() ? undefined : nodeModules();
  return m === undefined ? portableCodec : nodeCodec(m);
})();

/**
 * SHA-256 of bytes or of a string's UTF-8, synchronously: node:crypto's where
 * present, the portable implementation elsewhere. For hashing identifiers and
 * API keys (not on the signature path).
 */
export function sha256(data: Uint8Array | string): Uint8Array {
  const bytes = typeof data === 'string' ? utf8Encode(data) : data;
  const m = nodeModules();
  return m === undefined ? portableSha256(bytes) : m.crypto.createHash('sha256').update(bytes).digest();
}
