/**
 * The NIST curves P-256, P-384 and P-521 in BigInt arithmetic, for what Web
 * Crypto cannot do synchronously at key import: check that a point lies on its
 * curve, and compute the public point of a private scalar (to check a private
 * JWK's x and y, or to fill them in for a SEC1 key that omits them). Runs once
 * per imported key on the owner's own key material, never per token.
 *
 * @module
 */

interface Curve {
  readonly p: bigint;
  readonly b: bigint;
  readonly n: bigint;
  readonly gx: bigint;
  readonly gy: bigint;
}

/** y^2 = x^3 - 3x + b over GF(p), generator (gx, gy) of order n (FIPS 186-5, SP 800-186). */
const CURVES: Readonly<Record<string, Curve>> = {
  'P-256': {
    p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
    gy: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
  },
  'P-384': {
    p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    gx: 0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n,
    gy: 0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5fn,
  },
  'P-521': {
    p: 2n ** 521n - 1n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
    n: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    gx: 0x00c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66n,
    gy: 0x011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650n,
  },
};

/** Is (x, y) a point of the curve named `crv`? */
export function onCurve(crv: string, x: bigint, y: bigint): boolean {
  const curve = CURVES[crv];
  if (curve === undefined) return false;
  const { p, b } = curve;
  return x >= 0n && y >= 0n && x < p && y < p && (y * y - (x * x * x - 3n * x + b)) % p === 0n;
}

/** Is `d` a valid private scalar (1 <= d < n) of the curve? */
export function validScalar(crv: string, d: bigint): boolean {
  const curve = CURVES[crv];
  return curve !== undefined && d > 0n && d < curve.n;
}

/** Jacobian coordinates: x = X/Z^2, y = Y/Z^3; Z = 0 is the point at infinity. */
type Jacobian = readonly [bigint, bigint, bigint];

/** The public point d·G of the curve named `crv`. */
export function ecPublicPoint(crv: string, d: bigint): { x: bigint; y: bigint } {
  const curve = CURVES[crv];
  if (curve === undefined || !validScalar(crv, d)) throw new Error('invalid EC private scalar');
  const { p } = curve;
  const m = (a: bigint): bigint => {
    const r = a % p;
    return r < 0n ? r + p : r;
  };
  const double = ([x1, y1, z1]: Jacobian): Jacobian => {
    if (z1 === 0n || y1 === 0n) return [0n, 1n, 0n];
    const delta = m(z1 * z1);
    const gamma = m(y1 * y1);
    const beta = m(x1 * gamma);
    const alpha = m(3n * (x1 - delta) * (x1 + delta));
    const x3 = m(alpha * alpha - 8n * beta);
    const z3 = m((y1 + z1) * (y1 + z1) - gamma - delta);
    const y3 = m(alpha * (4n * beta - x3) - 8n * gamma * gamma);
    return [x3, y3, z3];
  };
  const add = (a: Jacobian, b: Jacobian): Jacobian => {
    const [x1, y1, z1] = a;
    const [x2, y2, z2] = b;
    if (z1 === 0n) return b;
    if (z2 === 0n) return a;
    const z1z1 = m(z1 * z1);
    const z2z2 = m(z2 * z2);
    const u1 = m(x1 * z2z2);
    const u2 = m(x2 * z1z1);
    const s1 = m(y1 * z2 * z2z2);
    const s2 = m(y2 * z1 * z1z1);
    const h = m(u2 - u1);
    const r2 = m(2n * (s2 - s1));
    if (h === 0n) return r2 === 0n ? double(a) : [0n, 1n, 0n];
    const i = m(4n * h * h);
    const j = m(h * i);
    const v = m(u1 * i);
    const x3 = m(r2 * r2 - j - 2n * v);
    const y3 = m(r2 * (v - x3) - 2n * s1 * j);
    const z3 = m(((z1 + z2) * (z1 + z2) - z1z1 - z2z2) * h);
    return [x3, y3, z3];
  };
  let result: Jacobian = [0n, 1n, 0n];
  let addend: Jacobian = [curve.gx, curve.gy, 1n];
  for (let k = d; k > 0n; k >>= 1n) {
    if (k & 1n) result = add(result, addend);
    addend = double(addend);
  }
  const [x, y, z] = result;
  const zInverse = power(z, p - 2n, p);
  const zInverse2 = m(zInverse * zInverse);
  return { x: m(x * zInverse2), y: m(y * zInverse2 * zInverse) };
}

function power(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}
