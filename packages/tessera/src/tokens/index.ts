export { VerifiedTokenCache } from './cache.js';
export { type Duration, toLifetime, toSeconds } from './duration.js';
export { inProfileWords, PROFILES, type ProfileName, type TokenProfile } from './profile.js';
export { type ClaimRules, type JwtPayload, validateClaims } from './validate.js';
export {
  TokenVerifier,
  type TokenVerifierOptions,
  type VerifiedJwt,
  type VerifyCallOptions,
} from './verifier.js';
