/**
 * The Web Crypto backend's own suite, in Node (backend forced): every algorithm,
 * the RFC vectors, key import and export, the remote JWKS client and the
 * verified-token cache; cross-verification with the node:crypto backend both ways.
 */
import type { Server } from 'node:http';
import * as lib from 'tessera-auth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failedChecks, managerProblems, serveJwks, tokensFromNode, verifyOnNode } from './harness.js';
import { type ForeignToken, runSuite, type SuiteOutput } from './suite.js';

let fromNode: ForeignToken[];
let jwks: { url: string; server: Server };
let output: SuiteOutput;

beforeAll(async () => {
  fromNode = tokensFromNode();
  jwks = await serveJwks(fromNode);
  lib.setCryptoBackend('webcrypto');
  try {
    output = await runSuite(lib, { fromNode, jwksUrl: jwks.url });
  } finally {
    lib.setCryptoBackend('auto');
  }
}, 120_000);

afterAll(() => {
  jwks?.server.close();
});

describe('Web Crypto backend in Node (forced)', () => {
  it('ran on Web Crypto', () => {
    expect(output.backend).toBe('webcrypto');
    expect(output.checks.length).toBeGreaterThan(30);
  });

  it('passes every check of the runtime suite', () => {
    expect(failedChecks(output)).toEqual([]);
  });

  it('signed a token for every algorithm, and node:crypto verifies each', () => {
    expect(output.signed.map((s) => s.alg)).toEqual([...new Set(fromNode.map((t) => t.alg))]);
    expect(verifyOnNode(output.signed)).toEqual([]);
  });

  it('TokenManager creates, verifies and rotates tokens on Web Crypto; node:crypto verifies them', () => {
    expect(managerProblems(output)).toEqual([]);
  });

  it('keeps the automatic choice on Node: node:crypto, synchronous', () => {
    expect(lib.cryptoBackend()).toBe('node');
  });
});
