/** What bench/runtimes.ts bundles for every runtime: the library core, jose and the workload. */
export * as jose from 'jose';
export * as lib from 'tessera-auth/core';
export { measure, prepare, runOps } from './runtimes-workload.js';
