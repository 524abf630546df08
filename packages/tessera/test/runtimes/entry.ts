/** The library's public entry and the suite, bundled together for runtimes that run JavaScript only. */
export * as lib from 'tessera-auth/core';
export { runSuite } from './suite.js';
