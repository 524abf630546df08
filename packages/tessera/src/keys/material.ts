/**
 * Recognise public or private key material handed over as an HMAC secret.
 *
 * The classic JWT "algorithm confusion" attack signs an HS256 token with the
 * verifier's public key as the secret: whoever builds an HMAC key from a PEM file
 * has already lost. So before any bytes become a secret they are checked here in
 * every encoding a key travels in: PEM (any label, any indentation, escaped
 * newlines), OpenSSH and RFC 4716 public keys, JWK and JWKS JSON, and DER (SPKI,
 * PKCS#1, PKCS#8, SEC1, X.509), raw or as base64/hex text. This runs only at
 * configuration time, so thoroughness costs nothing per request.
 */
import { base64ToBytes, base64UrlToBytes, hexToBytes } from '../bytes.js';
import { currentBackend } from '../crypto/select.js';

/** Armour lines of PEM (five dashes) and RFC 4716 SSH keys (four). */
const ARMOUR = /-{3,}\s*BEGIN [A-Z0-9 ]*-{3,}/i;

/** OpenSSH public key lines: "<type> AAAA...". */
const OPENSSH =
  /(^|\s)(ssh-(rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)\s+AAAA/;

/** JSON that names a key type or a key set. */
const JWK_MEMBERS = /"(kty|keys)"\s*:/;

/**
 * Describe the key material `bytes` look like, or return undefined when they
 * look like an ordinary secret. The description never quotes the input.
 */
export function describeKeyMaterial(bytes: Uint8Array): string | undefined {
  const der = derKind(bytes);
  if (der !== undefined) return der;
  const text = latin1Decode(bytes);
  if (ARMOUR.test(text)) return 'a PEM-encoded key or certificate';
  if (OPENSSH.test(text)) return 'an SSH public key';
  if (JWK_MEMBERS.test(text) || looksLikeJsonKey(text)) return 'a JSON Web Key or key set';
  // Key material pasted without its armour: the base64 (or hex) body of a PEM file.
  const compact = text.replace(/\s+/g, '').replace(/\\n/g, '');
  if (compact.length >= 32) {
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || /^[A-Za-z0-9_-]+$/.test(compact)) {
      const decoded = derKind(
        (compact.includes('-') || compact.includes('_')
          ? base64UrlToBytes(compact)
          : base64ToBytes(compact)) ?? new Uint8Array(0),
      );
      if (decoded !== undefined) return `${decoded} (base64-encoded)`;
    }
    if (/^(?:[0-9a-fA-F]{2})+$/.test(compact)) {
      const decoded = derKind(hexToBytes(compact) ?? new Uint8Array(0));
      if (decoded !== undefined) return `${decoded} (hex-encoded)`;
    }
  }
  return undefined;
}

/**
 * Does `text` parse as a JSON object (or array of objects) that carries a key
 * type or a key set? Catches member names the regex misses, such as escaped ones.
 */
function looksLikeJsonKey(text: string): boolean {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return false;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return false;
  }
  const items = Array.isArray(value) ? value : [value];
  return items.some((item) => typeof item === 'object' && item !== null && ('kty' in item || 'keys' in item));
}

/**
 * Try every DER structure a key arrives in. A DER key starts with a SEQUENCE
 * tag (0x30), so anything else is skipped without asking the crypto backend.
 */
function derKind(bytes: Uint8Array): string | undefined {
  if (bytes.length < 16 || bytes[0] !== 0x30) return undefined;
  return currentBackend().describeDer(bytes);
}

function latin1Decode(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return text;
}
