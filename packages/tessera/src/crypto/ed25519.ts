/**
 * The Ed25519 public key of a private key (RFC 8032 section 5.1.5), in plain
 * BigInt arithmetic. Only key import needs it: PKCS#8 as OpenSSL writes it holds
 * the private seed alone, and Web Crypto cannot derive the public half
 * synchronously. Runs once per imported key, never per token, and handles only
 * the owner's own key material (no attacker-chosen input reaches it).
 *
 * @module
 */

const MASK64 = (1n << 64n) - 1n;

/** Integer k-th root (floor) by Newton's method. */
function iroot(value: bigint, k: bigint): bigint {
  let x = 1n << (BigInt(value.toString(2).length) / k + 1n);
  for (;;) {
    const next = ((k - 1n) * x + value / x ** (k - 1n)) / k;
    if (next >= x) return x;
    x = next;
  }
}

const PRIMES: number[] = [];
for (let n = 2; PRIMES.length < 80; n++) if (PRIMES.every((p) => n % p !== 0)) PRIMES.push(n);
// FIPS 180-4 section 4.2.3 and 5.3.5: fractional parts of cube and square roots of the first primes.
const K = PRIMES.map((p) => iroot(BigInt(p) << 192n, 3n) & MASK64);
const H0 = PRIMES.slice(0, 8).map((p) => iroot(BigInt(p) << 128n, 2n) & MASK64);

const rotr = (x: bigint, n: bigint): bigint => ((x >> n) | (x << (64n - n))) & MASK64;

/** SHA-512 (FIPS 180-4) of a short input. */
export function sha512(data: Uint8Array): Uint8Array {
  const length = Math.ceil((data.length + 17) / 128) * 128;
  const padded = new Uint8Array(length);
  padded.set(data);
  padded[data.length] = 0x80;
  const bits = BigInt(data.length) * 8n;
  for (let i = 0; i < 16; i++) padded[length - 1 - i] = Number((bits >> BigInt(8 * i)) & 0xffn);
  const h = [...H0];
  const w: bigint[] = new Array(80);
  for (let offset = 0; offset < length; offset += 128) {
    for (let i = 0; i < 16; i++) {
      let word = 0n;
      for (let j = 0; j < 8; j++) word = (word << 8n) | BigInt(padded[offset + i * 8 + j] as number);
      w[i] = word;
    }
    for (let i = 16; i < 80; i++) {
      const a = w[i - 15] as bigint;
      const b = w[i - 2] as bigint;
      const s0 = rotr(a, 1n) ^ rotr(a, 8n) ^ (a >> 7n);
      const s1 = rotr(b, 19n) ^ rotr(b, 61n) ^ (b >> 6n);
      w[i] = ((w[i - 16] as bigint) + s0 + (w[i - 7] as bigint) + s1) & MASK64;
    }
    let [a, b, c, d, e, f, g, hh] = h as [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
    for (let i = 0; i < 80; i++) {
      const s1 = rotr(e, 14n) ^ rotr(e, 18n) ^ rotr(e, 41n);
      const ch = (e & f) ^ (~e & MASK64 & g);
      const t1 = (hh + s1 + ch + (K[i] as bigint) + (w[i] as bigint)) & MASK64;
      const s0 = rotr(a, 28n) ^ rotr(a, 34n) ^ rotr(a, 39n);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (s0 + maj) & MASK64;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) & MASK64;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) & MASK64;
    }
    const next = [a, b, c, d, e, f, g, hh];
    for (let i = 0; i < 8; i++) h[i] = ((h[i] as bigint) + (next[i] as bigint)) & MASK64;
  }
  const out = new Uint8Array(64);
  h.forEach((word, i) => {
    for (let j = 0; j < 8; j++) out[i * 8 + j] = Number((word >> BigInt(56 - 8 * j)) & 0xffn);
  });
  return out;
}

const P = 2n ** 255n - 19n;
const mod = (a: bigint): bigint => ((a % P) + P) % P;

function pow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}

const inverse = (a: bigint): bigint => pow(a, P - 2n);
const D = mod(-121665n * inverse(121666n));
const BASE_Y = mod(4n * inverse(5n));
const BASE_X = 15112221349535400772501151409588531511454012693041857206046113283949847762202n;

/** Extended coordinates (X, Y, Z, T) with x = X/Z, y = Y/Z, xy = T/Z. */
type Point = readonly [bigint, bigint, bigint, bigint];

/** The unified addition of RFC 8032 section 5.1.4 (complete: it also doubles). */
function add(p: Point, q: Point): Point {
  const [x1, y1, z1, t1] = p;
  const [x2, y2, z2, t2] = q;
  const a = mod((y1 - x1) * (y2 - x2));
  const b = mod((y1 + x1) * (y2 + x2));
  const c = mod(t1 * 2n * D * t2);
  const d = mod(z1 * 2n * z2);
  const e = b - a;
  const f = d - c;
  const g = d + c;
  const h = b + a;
  return [mod(e * f), mod(g * h), mod(f * g), mod(e * h)];
}

/** The Ed25519 public key (32 bytes) of a 32-byte private key (seed). */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  const hash = sha512(seed);
  const scalarBytes = hash.slice(0, 32);
  scalarBytes[0] = (scalarBytes[0] as number) & 248;
  scalarBytes[31] = ((scalarBytes[31] as number) & 127) | 64;
  let scalar = 0n;
  for (let i = 31; i >= 0; i--) scalar = (scalar << 8n) | BigInt(scalarBytes[i] as number);
  let result: Point = [0n, 1n, 1n, 0n];
  let addend: Point = [BASE_X, BASE_Y, 1n, mod(BASE_X * BASE_Y)];
  while (scalar > 0n) {
    if (scalar & 1n) result = add(result, addend);
    addend = add(addend, addend);
    scalar >>= 1n;
  }
  const zInverse = inverse(result[2]);
  const x = mod(result[0] * zInverse);
  const y = mod(result[1] * zInverse);
  const out = new Uint8Array(32);
  let value = y;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  out[31] = (out[31] as number) | (Number(x & 1n) << 7);
  return out;
}
