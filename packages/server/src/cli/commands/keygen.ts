/** `tessera keygen`: a new signing key as PEM, JWK or JWK Set, from the library's generateKey. */
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { exportJwk, exportPem, generateKey, type Jwk, type TesseraKey, thumbprint } from 'tessera-auth';
import { encodeBase64Url, isHmacAlgorithm } from 'tessera-auth/core';
import { type Command, flag, int, str } from '../command.js';
import { ioError, UsageError } from '../errors.js';
import { algorithm } from '../key-file.js';

const FORMATS = ['pem', 'jwk', 'jwks', 'raw'] as const;
type Format = (typeof FORMATS)[number];

function write(path: string, text: string, mode: number, force: boolean): void {
  try {
    writeFileSync(path, text, { mode, flag: force ? 'w' : 'wx' });
    // The mode applies only when the file is created, and under the umask: set it outright.
    chmodSync(path, mode);
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'EEXIST') {
      throw new UsageError(`${path} exists: choose another path or pass --force to overwrite it`);
    }
    throw ioError(`cannot write ${path}`, error);
  }
}

function render(key: TesseraKey, format: Format, kid: string, half: 'private' | 'public'): string {
  const wantPrivate = half === 'private';
  if (format === 'pem') return exportPem(key, { private: wantPrivate });
  if (format === 'raw') {
    const jwk = exportJwk(key, { private: true });
    return `${String(jwk.k)}\n`;
  }
  const jwk: Jwk = { ...exportJwk(key, { private: wantPrivate }), kid, alg: key.alg, use: 'sig' };
  return `${JSON.stringify(format === 'jwks' ? { keys: [jwk] } : jwk, null, 2)}\n`;
}

export const keygen: Command = {
  name: 'keygen',
  summary: 'Generate a signing key: an HMAC secret, RSA, EC or Ed25519, as PEM, JWK or JWK Set.',
  usage: 'keygen [--alg EdDSA] [--format pem|jwk|jwks|raw] [--out <file>] [--public-out <file>]',
  help: `
The private key (or the secret) is the requested output: it goes to --out (created
with mode 0600, never overwritten without --force) or, without --out, to stdout.
The public half goes to --public-out (mode 0644) when given.

Options:
  --alg <alg>           EdDSA (default), ES256, ES384, ES512, RS256, RS384, RS512,
                        PS256, PS384, PS512, HS256, HS384, HS512
  --format <format>     pem (default for RSA/EC/Ed25519), jwk (default for HS*),
                        jwks, raw (HS* only: the secret in base64url)
  --out <file>          write the private key or secret here (mode 0600)
  --public-out <file>   write the public key here (not for HS*)
  --kid <kid>           key id (default: the RFC 7638 thumbprint; random for HS*)
  --bits <n>            RSA modulus length (default 2048, at least 2048)
  --force               overwrite existing files

With --json: {"alg","kid","format","private","public"} on stdout (private only when
there is no --out).

Examples:
  tessera keygen --out signing.pem --public-out signing.pub.pem
  tessera keygen --alg ES256 --format jwks --out jwks.private.json --public-out jwks.json
  tessera keygen --alg HS256 --format raw --out secret.txt`,
  options: {
    alg: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    'public-out': { type: 'string' },
    kid: { type: 'string' },
    bits: { type: 'string' },
    force: { type: 'boolean' },
  },
  positionals: { min: 0, max: 0 },
  async run(args, out) {
    const alg = algorithm(str(args, 'alg')) ?? 'EdDSA';
    const hmac = isHmacAlgorithm(alg);
    const formatText = str(args, 'format') ?? (hmac ? 'jwk' : 'pem');
    if (!(FORMATS as readonly string[]).includes(formatText)) {
      throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not '${formatText}'`);
    }
    const format = formatText as Format;
    if (hmac && format === 'pem')
      throw new UsageError(`an ${alg} secret has no PEM form: use --format jwk, jwks or raw`);
    if (!hmac && format === 'raw') throw new UsageError('--format raw is for HS* secrets only');
    const publicOut = str(args, 'public-out');
    if (hmac && publicOut !== undefined)
      throw new UsageError(`an ${alg} secret has no public half: drop --public-out`);
    const bits = str(args, 'bits');
    if (bits !== undefined && !alg.startsWith('RS') && !alg.startsWith('PS')) {
      throw new UsageError('--bits applies to RSA algorithms only');
    }
    let key: TesseraKey;
    try {
      key = generateKey(alg, bits === undefined ? {} : { modulusLength: int(args, 'bits', 2048, 2048) });
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    const kid = str(args, 'kid') ?? (hmac ? encodeBase64Url(randomBytes(16)) : thumbprint(exportJwk(key)));
    const privateText = render(key, format, kid, 'private');
    const publicText = hmac ? undefined : render(key, format === 'raw' ? 'pem' : format, kid, 'public');
    const force = flag(args, 'force');
    const target = str(args, 'out');
    if (target !== undefined) write(target, privateText, 0o600, force);
    if (publicOut !== undefined && publicText !== undefined) write(publicOut, publicText, 0o644, force);

    if (out.json) {
      const parse = (text: string) => (format === 'jwk' || format === 'jwks' ? JSON.parse(text) : text);
      out.result({
        alg,
        kid,
        format,
        ...(target === undefined ? { private: parse(privateText) } : { privateFile: target }),
        ...(publicText === undefined ? {} : { public: parse(publicText) }),
        ...(publicOut === undefined ? {} : { publicFile: publicOut }),
      });
      return 0;
    }
    if (target === undefined) out.raw(privateText);
    else
      out.note(`wrote the ${hmac ? 'secret' : 'private key'} (${alg}, kid ${kid}) to ${target} (mode 0600)`);
    if (publicOut !== undefined) out.note(`wrote the public key to ${publicOut}`);
    return 0;
  },
};
