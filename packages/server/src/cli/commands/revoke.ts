/** `tessera revoke`: a token, a session, or everything of a user, in the service's store. */
import { readFileSync } from 'node:fs';
import { StoreUnavailableError, TesseraError } from 'tessera-auth';
import { type Command, flag, str } from '../command.js';
import { CliError, EXIT, ioError, storeUnavailable, UsageError } from '../errors.js';
import { loadKeys, managers, openService, revokeEverything, serviceConfig } from '../service-env.js';

export const revoke: Command = {
  name: 'revoke',
  summary: 'Revoke a token, a session (refresh family), or every token, session and API key of a user.',
  usage: 'revoke --token <token | -> | --session <familyId> | --user <username> [--keep-api-keys]',
  help: `
The service refuses what is revoked from its next request on (with Redis, every instance
at once). A token must be one the service issued: its signature is checked, an expired
one is accepted (revoking it is harmless).
Exit 1 when the token is not the service's, or the session or user does not exist.

Options:
  --token <token|->      revoke this token ('-' reads it from stdin)
  --session <familyId>   revoke a session: every access and refresh token of one sign-in
                         (the fam claim, or the id in GET /auth/sessions)
  --user <username>      revoke every token and session of the user, and their API keys
  --keep-api-keys        with --user: leave the API keys alone

Examples:
  tessera revoke --user alice
  echo "$REFRESH_TOKEN" | tessera revoke --token -`,
  options: {
    token: { type: 'string' },
    session: { type: 'string' },
    user: { type: 'string' },
    'keep-api-keys': { type: 'boolean' },
  },
  positionals: { min: 0, max: 0 },
  async run(args, out) {
    const tokenText = str(args, 'token');
    const session = str(args, 'session');
    const username = str(args, 'user');
    const given = [tokenText, session, username].filter((v) => v !== undefined).length;
    if (given !== 1) throw new UsageError('revoke: give exactly one of --token, --session, --user');
    if (flag(args, 'keep-api-keys') && username === undefined)
      throw new UsageError('--keep-api-keys goes with --user');
    const handle = await openService(serviceConfig());
    try {
      const keys = await loadKeys(handle);
      const [main, ...others] = await managers(handle, keys);
      if (tokenText !== undefined) {
        let token = tokenText;
        if (token === '-') {
          try {
            token = readFileSync(0, 'utf8');
          } catch (error) {
            throw ioError('cannot read the token from stdin', error);
          }
        }
        token = token.trim().replace(/^Bearer\s+/i, '');
        let lastError: unknown;
        // The token's profile is not known: the configured one first, then SimpleJWT's.
        for (const manager of [main!, ...others]) {
          try {
            await manager.revokeToken(token);
            out.result({ revoked: 'token' });
            out.line('revoked the token');
            return EXIT.ok;
          } catch (error) {
            if (error instanceof StoreUnavailableError) throw storeUnavailable(error);
            if (!(error instanceof TesseraError)) throw storeUnavailable(error);
            lastError = error;
          }
        }
        throw new CliError(
          `not a token of this service: ${lastError instanceof Error ? lastError.message : String(lastError)}`,
          EXIT.checkFailed,
          lastError instanceof TesseraError ? lastError.code : 'token_invalid',
        );
      }
      if (session !== undefined) {
        let existed: boolean;
        try {
          existed = await main!.revokeSession(session);
        } catch (error) {
          throw storeUnavailable(error);
        }
        if (!existed)
          throw new CliError(`no live session '${session}'`, EXIT.checkFailed, 'session_not_found');
        out.result({ revoked: 'session', session });
        out.line(`revoked session ${session}`);
        return EXIT.ok;
      }
      const user = await handle.users.byUsername(username!);
      if (user === undefined)
        throw new CliError(`no user named '${username}'`, EXIT.checkFailed, 'user_not_found');
      let apiKeys: number;
      try {
        ({ apiKeys } = await revokeEverything(handle, keys, user, { apiKeys: !flag(args, 'keep-api-keys') }));
      } catch (error) {
        throw storeUnavailable(error);
      }
      await handle.audit.record({ type: 'user.revoked', actor: 'cli', subject: user.username });
      out.result({ revoked: 'user', username: user.username, apiKeysRevoked: apiKeys });
      out.line(
        `revoked every token and session of ${user.username}${apiKeys > 0 ? ` and ${apiKeys} API key(s)` : ''}`,
      );
      return EXIT.ok;
    } finally {
      await handle.close();
    }
  },
};
