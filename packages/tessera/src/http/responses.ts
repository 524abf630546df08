/**
 * Errors to HTTP answers: the profile's answer (its `answer` function, see
 * src/messages/answers.ts), then the app's error handler for the error's kind.
 */
import type { TesseraError } from '../errors.js';
import type { ResolvedConfig } from '../manager/config.js';
import type { ResponseData } from '../manager/options.js';

export { jsonResponse } from '../messages/answers.js';

/**
 * The answer for `error` under the manager's profile, after its error handler (if any).
 * `acceptLanguage` is the request's Accept-Language header: with
 * `messages: { locale: 'accept-language' }` it picks the catalog.
 */
export async function errorResponse(
  config: ResolvedConfig<unknown>,
  error: TesseraError,
  acceptLanguage?: string,
): Promise<ResponseData> {
  const base = defaultErrorResponse(config, error, acceptLanguage);
  const handler = error.kind === 'configuration' ? undefined : config.errorHandlers[error.kind];
  return handler === undefined ? base : handler(error, base);
}

/** The profile's default answer for `error`. */
export function defaultErrorResponse(
  config: ResolvedConfig<unknown>,
  error: TesseraError,
  acceptLanguage?: string,
): ResponseData {
  return config.profile.answer(error, { config, acceptLanguage });
}
