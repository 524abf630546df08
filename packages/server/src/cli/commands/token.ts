/** `tessera token decode|verify|sign`. */
import { readFileSync } from 'node:fs';
import {
  InvalidSignatureError,
  importJwk,
  type Jwk,
  JwksInvalidError,
  JwksUnavailableError,
  KeyNotFoundError,
  Keyring,
  type KeySource,
  PROFILES,
  type ProfileName,
  RemoteJwks,
  StoreUnavailableError,
  TesseraError,
  TokenExpiredError,
} from 'tessera-auth';
import { type ClaimRules, signJws, TokenVerifier, toSeconds } from 'tessera-auth/core';
import { type Command, flag, type Parsed, str } from '../command.js';
import { CliError, EXIT, ioError, storeUnavailable, UsageError } from '../errors.js';
import { type Inspection, inspectToken, type Problem } from '../inspect.js';
import { algorithm, loadKeyFile, readText } from '../key-file.js';
import type { Output } from '../output.js';
import {
  loadKeys,
  managers,
  openService,
  type ServiceHandle,
  serviceConfig,
  serviceDataExists,
} from '../service-env.js';
import { nowSeconds, relative, utc } from '../time.js';

/** The token argument: the text itself, or '-' for stdin. */
function tokenArgument(args: Parsed): string {
  const given = args.positionals[0] ?? '-';
  const text = given === '-' ? readStdin() : given;
  return text.trim().replace(/^Bearer\s+/i, '');
}

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch (error) {
    throw ioError('cannot read the token from stdin', error);
  }
}

/** A key source named on the command line, or undefined for the service's own keys. */
async function explicitKeys(
  args: Parsed,
): Promise<{ source: KeySource; kids: string[]; name: string } | undefined> {
  const jwks = str(args, 'jwks');
  const keyFile = str(args, 'key');
  if (jwks !== undefined && keyFile !== undefined) throw new UsageError('give --jwks or --key, not both');
  if (keyFile !== undefined) {
    const alg = algorithm(str(args, 'alg'));
    const keys = loadKeyFile(keyFile, alg === undefined ? {} : { alg });
    return {
      source: new Keyring(keys),
      kids: keys.flatMap((k) => (k.kid === undefined ? [] : [k.kid])),
      name: keyFile,
    };
  }
  if (jwks === undefined) return undefined;
  if (/^https?:\/\//i.test(jwks)) {
    let remote: RemoteJwks;
    try {
      remote = new RemoteJwks(jwks, { allowHttp: flag(args, 'allow-http'), cooldownSeconds: 0 });
    } catch (error) {
      throw new UsageError(`--jwks: ${error instanceof Error ? error.message : String(error)}`);
    }
    // Fetch now, so a down endpoint is an I/O error (exit 4) and the kids are known for decode.
    let kids: string[];
    try {
      const response = await fetch(remote.url, { signal: AbortSignal.timeout(5000) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const body = (await response.json()) as { keys?: { kid?: unknown }[] };
      kids = (body.keys ?? []).flatMap((k) => (typeof k.kid === 'string' ? [k.kid] : []));
    } catch (error) {
      throw ioError(`cannot fetch the JWKS ${remote.url}`, error);
    }
    return { source: remote, kids, name: remote.url };
  }
  const text = readText(jwks, 'JWKS file');
  try {
    const set = JSON.parse(text) as { keys?: unknown };
    if (!Array.isArray(set.keys)) throw new Error('not a JWK Set (no "keys" array)');
    const keys = (set.keys as Jwk[]).map((jwk) => importJwk(jwk));
    return {
      source: new Keyring(keys),
      kids: keys.flatMap((k) => (k.kid === undefined ? [] : [k.kid])),
      name: jwks,
    };
  } catch (error) {
    throw new CliError(
      `${jwks}: ${error instanceof Error ? error.message : String(error)}`,
      EXIT.usage,
      'key_invalid',
    );
  }
}

function printInspection(out: Output, inspection: Inspection): void {
  const { header, payload, times, problems, notes } = inspection;
  const block = (title: string, value: Record<string, unknown> | undefined) => {
    if (value === undefined) return;
    out.line(out.style('bold', title));
    for (const [name, v] of Object.entries(value)) {
      const time = title === 'Claims' ? times.find((t) => t.claim === name) : undefined;
      const shown = JSON.stringify(v);
      out.line(
        `  ${name.padEnd(10)} ${shown}${time === undefined ? '' : out.style('dim', `  ${time.utc} (${time.relative})`)}`,
      );
    }
  };
  block('Header', header);
  block('Claims', payload);
  if (problems.length > 0) {
    out.line(out.style('bold', 'Problems'));
    for (const p of problems) out.line(`  ${out.style('red', '✗')} ${p.message}`);
  }
  for (const note of notes) out.line(`  ${out.style('dim', note)}`);
}

const TOKEN_HELP_KEYS = `  --jwks <url|file>     a JWK Set: an http(s) URL (plain http only to loopback, or with
                        --allow-http) or a file
  --key <file>          a key file: PEM (the algorithm from --alg or the key type),
                        JWK, JWK Set, or a raw HMAC secret with --alg HS256`;

export const tokenDecode: Command = {
  name: 'token decode',
  summary: "Show a token's header and claims, its times in words, and what is wrong with it.",
  usage: 'token decode <token | -> [--audience <aud>] [--issuer <iss>] [--jwks <url|file> | --key <file>]',
  help: `
Reads the token without trusting it: the signature is NOT checked (use token verify).
Problems named: malformed, alg none, expired (and how long ago), not yet valid, issued
in the future, wrong or missing audience (with --audience) or issuer (with --issuer),
unknown kid (checked against --jwks/--key, or the service's keys when its database
exists; --offline skips that).
Exit 0 when no problem is found, 1 when there is one.

Options:
  --audience <aud>      the audience the token must be for
  --issuer <iss>        the issuer the token must come from
${TOKEN_HELP_KEYS}
  --offline             do not look at the service's keys for the kid

Examples:
  tessera token decode eyJhbGciOi...
  pbpaste | tessera token decode - --audience api --json`,
  options: {
    audience: { type: 'string' },
    issuer: { type: 'string' },
    jwks: { type: 'string' },
    key: { type: 'string' },
    alg: { type: 'string' },
    'allow-http': { type: 'boolean' },
    offline: { type: 'boolean' },
  },
  positionals: { min: 0, max: 1 },
  async run(args, out) {
    const token = tokenArgument(args);
    let known: { kids: string[]; source: string } | undefined;
    const explicit = await explicitKeys(args);
    if (explicit !== undefined) {
      known = { kids: explicit.kids, source: explicit.name };
    } else if (!flag(args, 'offline')) {
      const config = serviceConfig();
      if (serviceDataExists(config)) {
        let handle: ServiceHandle | undefined;
        try {
          handle = await openService(config);
          const keys = await loadKeys(handle);
          known = { kids: safeList(keys).map((k) => k.kid), source: 'the service' };
        } catch (error) {
          out.note(
            `tessera: the kid is not checked: ${error instanceof Error ? error.message : String(error)}`,
          );
        } finally {
          await handle?.close();
        }
      }
    }
    const audience = str(args, 'audience');
    const issuer = str(args, 'issuer');
    const inspection = inspectToken(token, {
      now: nowSeconds(),
      ...(audience === undefined ? {} : { audience }),
      ...(issuer === undefined ? {} : { issuer }),
      ...(known === undefined ? {} : { knownKids: known }),
    });
    const notes = [...inspection.notes];
    if (known === undefined) notes.push('kid not checked (no key source)');
    notes.push('signature not checked: use tessera token verify');
    out.result({ valid: inspection.problems.length === 0, ...inspection, notes });
    printInspection(out, { ...inspection, notes });
    return inspection.problems.length === 0 ? EXIT.ok : EXIT.checkFailed;
  },
};

/** The service's key list, empty before its first start (no signing key yet). */
function safeList(keys: Awaited<ReturnType<typeof loadKeys>>) {
  try {
    return keys.list();
  } catch {
    return [];
  }
}

/** A verification failure in words (the inspection has the times). */
function describeFailure(error: TesseraError, inspection: Inspection, source: string): Problem {
  if (error instanceof TokenExpiredError) {
    const expired = inspection.problems.find((p) => p.code === 'token_expired');
    return { code: error.code, message: expired?.message ?? 'expired' };
  }
  if (error instanceof KeyNotFoundError) {
    const kid = inspection.header?.kid;
    return {
      code: error.code,
      message:
        typeof kid === 'string'
          ? `unknown kid '${kid}': no key of ${source} has it`
          : `no key of ${source} fits: ${error.message}`,
    };
  }
  if (error instanceof InvalidSignatureError) {
    return {
      code: error.code,
      message: 'the signature does not match: the token was altered, or signed by another key',
    };
  }
  const words = inspection.problems.find((p) => p.code === error.code);
  return { code: error.code, message: words?.message ?? error.message };
}

export const tokenVerify: Command = {
  name: 'token verify',
  summary: "Verify a token's signature and claims against the service's keys, a JWKS or a key file.",
  usage: 'token verify <token | -> [--jwks <url|file> | --key <file>] [--audience <aud>] [--issuer <iss>]',
  help: `
Without --jwks or --key, the token is checked as the service checks it: its signing
keys (current and those in their grace period), its issuer and audience settings,
and its revocation store (a revoked token or session fails).
Exit 0 when the token is valid, 1 when it is not, 3 when the service's store is
unavailable, 4 when a key file or JWKS URL cannot be read.

Options:
${TOKEN_HELP_KEYS}
  --alg <alg>           the algorithm of a PEM key or raw secret
  --audience <aud>      required audience (default: TESSERA_AUDIENCE with the service's keys)
  --issuer <iss>        required issuer (default: TESSERA_ISSUER with the service's keys)
  --profile <name>      claim rules: standard, flask-jwt-extended, simplejwt
                        (default: TESSERA_PROFILE with the service's keys, else standard)
  --leeway <seconds>    clock skew tolerated on exp/nbf/iat (default 0)

Examples:
  tessera token verify "$ACCESS_TOKEN"
  tessera token verify "$T" --jwks https://auth.example.com/.well-known/jwks.json --json
  tessera token verify "$T" --key public.pem`,
  options: {
    jwks: { type: 'string' },
    key: { type: 'string' },
    alg: { type: 'string' },
    'allow-http': { type: 'boolean' },
    audience: { type: 'string' },
    issuer: { type: 'string' },
    profile: { type: 'string' },
    leeway: { type: 'string' },
  },
  positionals: { min: 0, max: 1 },
  async run(args, out) {
    const token = tokenArgument(args);
    const profileText = str(args, 'profile');
    if (profileText !== undefined && !Object.hasOwn(PROFILES, profileText)) {
      throw new UsageError(
        `--profile must be standard, flask-jwt-extended or simplejwt, not '${profileText}'`,
      );
    }
    const leewayText = str(args, 'leeway') ?? '0';
    if (!/^\d+$/.test(leewayText))
      throw new UsageError(`--leeway must be a number of seconds, not '${leewayText}'`);
    const explicit = await explicitKeys(args);
    let handle: ServiceHandle | undefined;
    let serviceKeys: Awaited<ReturnType<typeof loadKeys>> | undefined;
    try {
      let source: KeySource;
      let sourceName: string;
      let profile: ProfileName = (profileText as ProfileName | undefined) ?? 'standard';
      let audience = str(args, 'audience');
      let issuer = str(args, 'issuer');
      if (explicit !== undefined) {
        source = explicit.source;
        sourceName = explicit.name;
      } else {
        const config = serviceConfig();
        handle = await openService(config);
        serviceKeys = await loadKeys(handle);
        source = serviceKeys;
        sourceName = 'the service';
        profile = (profileText as ProfileName | undefined) ?? config.profile;
        audience ??= config.audience;
        issuer ??= config.issuer;
      }
      const rules: ClaimRules = {
        profile: PROFILES[profile],
        leeway: Number(leewayText),
        requireExp: false,
        issuer: issuer === undefined ? undefined : [issuer],
        audience: audience === undefined ? undefined : [audience],
      };
      const verifier = new TokenVerifier({ keys: source, rules, clock: nowSeconds });
      const now = nowSeconds();
      const inspection = inspectToken(token, {
        now,
        ...(audience === undefined ? {} : { audience }),
        ...(issuer === undefined ? {} : { issuer }),
      });
      let problem: Problem | undefined;
      let kid: unknown;
      try {
        const verified = await verifier.verify(token);
        kid = verified.header.kid;
        if (handle !== undefined && serviceKeys !== undefined) {
          for (const manager of await managers(handle, serviceKeys)) {
            if (await manager.isRevoked(verified.header, verified.payload)) {
              problem = {
                code: 'token_revoked',
                message: 'revoked: the token, its session or every token of its user was revoked',
              };
              break;
            }
          }
        }
      } catch (error) {
        if (error instanceof StoreUnavailableError) throw storeUnavailable(error);
        if (error instanceof JwksUnavailableError || error instanceof JwksInvalidError) {
          throw ioError(`cannot use the JWKS ${sourceName}`, error);
        }
        if (!(error instanceof TesseraError)) throw error;
        problem = describeFailure(error, inspection, sourceName);
      }
      const valid = problem === undefined;
      out.result({
        valid,
        problem: problem ?? null,
        header: inspection.header ?? null,
        payload: inspection.payload ?? null,
        times: inspection.times,
        keySource: sourceName,
      });
      if (valid) {
        const exp = inspection.payload?.exp;
        out.line(
          `${out.style('green', 'valid')}: ${String(inspection.header?.alg)} signature by ${typeof kid === 'string' ? `key ${kid}` : 'a key'} of ${sourceName}${typeof exp === 'number' ? `; expires ${relative(exp, now)} (${utc(exp)})` : '; no expiry'}`,
        );
        const identity = inspection.payload?.[PROFILES[profile].identityClaim];
        if (identity !== undefined)
          out.line(`  ${PROFILES[profile].identityClaim}: ${JSON.stringify(identity)}`);
        return EXIT.ok;
      }
      out.line(`${out.style('red', 'invalid')}: ${problem?.message}`);
      return EXIT.checkFailed;
    } finally {
      await handle?.close();
    }
  },
};

export const tokenSign: Command = {
  name: 'token sign',
  summary: 'Sign a token with a key file (for tests and scripts).',
  usage: "token sign --claims '{...}' --key <file> [--alg <alg>] [--expires 15m] [--kid <kid>]",
  help: `
Prints the signed token on stdout (it is the requested output). iat is set to now and
exp to now + --expires unless the claims hold them.

Options:
  --claims <json>       the claims, a JSON object (required)
  --key <file>          the private key: PEM, JWK, JWK Set (one key, or --kid), or a
                        raw HMAC secret with --alg HS256 (required)
  --alg <alg>           the algorithm (default: the JWK's alg, or the PEM key's type)
  --expires <duration>  lifetime: seconds or 30s, 15m, 12h, 30d (default 15m); none for no exp
  --kid <kid>           key id for the header (default: the key's)
  --typ <typ>           typ header (default JWT)

Examples:
  tessera token sign --key signing.pem --claims '{"sub":"alice","aud":"api"}'
  tessera token sign --key secret.txt --alg HS256 --claims '{"sub":"bob"}' --expires 1h`,
  options: {
    claims: { type: 'string' },
    key: { type: 'string' },
    alg: { type: 'string' },
    expires: { type: 'string' },
    kid: { type: 'string' },
    typ: { type: 'string' },
  },
  positionals: { min: 0, max: 0 },
  async run(args, out) {
    const claimsText = str(args, 'claims');
    const keyFile = str(args, 'key');
    if (claimsText === undefined) throw new UsageError("token sign: --claims '{...}' is required");
    if (keyFile === undefined) throw new UsageError('token sign: --key <file> is required');
    let claims: unknown;
    try {
      claims = JSON.parse(claimsText);
    } catch (error) {
      throw new UsageError(`--claims is not JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
      throw new UsageError('--claims must be a JSON object');
    }
    const kidOption = str(args, 'kid');
    const alg = algorithm(str(args, 'alg'));
    const keys = loadKeyFile(keyFile, {
      ...(alg === undefined ? {} : { alg }),
      ...(kidOption === undefined ? {} : { kid: kidOption }),
    });
    if (keys.length !== 1)
      throw new UsageError(`${keyFile} holds ${keys.length} keys: choose one with --kid`);
    const key = keys[0]!;
    if (key.signing === undefined)
      throw new UsageError(`${keyFile} holds a public key: signing needs the private key`);
    const payload: Record<string, unknown> = { ...(claims as Record<string, unknown>) };
    const now = nowSeconds();
    payload.iat ??= now;
    const expires = str(args, 'expires') ?? '15m';
    if (expires !== 'none' && payload.exp === undefined) {
      let seconds: number;
      try {
        seconds = toSeconds(/^\d+$/.test(expires) ? Number(expires) : expires, 'expires');
      } catch {
        throw new UsageError(
          `--expires: not a duration: '${expires}' (use seconds or 30s, 15m, 12h, 30d, or none)`,
        );
      }
      payload.exp = (typeof payload.iat === 'number' ? payload.iat : now) + seconds;
    }
    const header: Record<string, unknown> = { alg: key.alg, typ: str(args, 'typ') ?? 'JWT' };
    const kid = kidOption ?? key.kid;
    if (kid !== undefined) header.kid = kid;
    let token: string;
    try {
      token = signJws(header, payload, key.signing);
    } catch (error) {
      throw new CliError(
        `cannot sign: ${error instanceof Error ? error.message : String(error)}`,
        EXIT.usage,
        'key_invalid',
      );
    }
    if (out.json) out.result({ token, header, payload });
    else out.raw(`${token}\n`);
    return EXIT.ok;
  },
};
