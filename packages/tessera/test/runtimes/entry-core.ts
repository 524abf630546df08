/**
 * The library's core (JWS, keys, token verification, errors) and the suite,
 * for runtimes with no node:* modules at all (workerd without nodejs_compat,
 * browsers). It imports the core's own index modules rather than the root
 * entry, which also carries the manager, HTTP layer and stores.
 */
import * as errors from '../../src/errors.js';
import * as jws from '../../src/jws/index.js';
import * as keys from '../../src/keys/index.js';
import * as tokens from '../../src/tokens/index.js';

export const lib = { ...errors, ...jws, ...keys, ...tokens };
export { runSuite } from './suite.js';
