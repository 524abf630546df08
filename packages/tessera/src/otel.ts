/**
 * `tessera-auth/otel`: OpenTelemetry spans and metrics for a {@link TokenManager}.
 *
 * The application passes its own tracer and meter (from `@opentelemetry/api`, an
 * optional peer dependency): this module only names the API's types, so nothing
 * of OpenTelemetry is loaded unless the application loads it. Spans and metric
 * attributes carry error codes, never token text, identities or messages.
 *
 * @example
 * ```ts
 * import { metrics, trace } from '@opentelemetry/api';
 * import { instrument } from 'tessera-auth/otel';
 *
 * const stop = instrument(manager, {
 *   tracer: trace.getTracer('my-api'),
 *   meter: metrics.getMeter('my-api'),
 * });
 * ```
 *
 * @packageDocumentation
 */
import type { Attributes, Counter, Meter, Span, SpanStatusCode, Tracer } from '@opentelemetry/api';
import { TesseraError } from './errors.js';
import { refuseUnknownOptions } from './known-options.js';
import type { TokenManager } from './manager/token-manager.js';
import { isPromise } from './tokens/verifier.js';

/** Options of {@link instrument}. Either may be left out. */
export interface InstrumentOptions {
  /** Spans `tessera.verify` and `tessera.refresh`, one per call, with the outcome. */
  readonly tracer?: Tracer;
  /**
   * Counters `tessera.tokens.verified`, `tessera.tokens.refused` (attributes
   * `tessera.error.code`, `tessera.operation`) and `tessera.refresh.reuse_detected`.
   */
  readonly meter?: Meter;
}

const OPTION_KEYS = ['tracer', 'meter'] as const;
// SpanStatusCode.ERROR, written as its value: the enum lives in @opentelemetry/api's
// runtime, which this module must not load.
const STATUS_ERROR = 2 as SpanStatusCode.ERROR;

/**
 * Instrument `manager`: wraps its `verify`, `verifyToken` and `refreshTokens`
 * (the guards and the refresh handler call these) and subscribes to its events.
 * Returns the function that removes the instrumentation.
 */
export function instrument<TUser>(manager: TokenManager<TUser>, options: InstrumentOptions): () => void {
  refuseUnknownOptions(options, OPTION_KEYS, 'instrument options');
  const { tracer, meter } = options;
  const profile = manager.config.profile.name;
  const verified = meter?.createCounter('tessera.tokens.verified', {
    description: 'Tokens the manager accepted',
  });
  const refused = meter?.createCounter('tessera.tokens.refused', {
    description: 'Tokens the manager refused, by error code',
  });
  const reuse = meter?.createCounter('tessera.refresh.reuse_detected', {
    description: 'Spent refresh tokens presented again (their session was revoked)',
  });
  const base: Attributes = { 'tessera.profile': profile };

  const unsubscribe: Array<() => void> = [];
  if (refused !== undefined) {
    unsubscribe.push(
      manager.events.on('token_refused', (event) => {
        refused.add(1, { ...base, 'tessera.error.code': event.code, 'tessera.operation': event.operation });
      }),
    );
  }
  if (reuse !== undefined) {
    unsubscribe.push(manager.events.on('refresh_reuse_detected', () => reuse.add(1, base)));
  }

  const original = {
    verify: manager.verify,
    verifyToken: manager.verifyToken,
    refreshTokens: manager.refreshTokens,
  };
  const observe = <A extends unknown[], R>(
    spanName: string,
    counter: Counter | undefined,
    call: (...args: A) => R | Promise<R>,
  ) => {
    return (...args: A): R | Promise<R> => {
      const span = tracer?.startSpan(spanName, { attributes: base });
      let result: R | Promise<R>;
      try {
        result = call(...args);
      } catch (error) {
        finish(span, counter, error);
        throw error;
      }
      if (!isPromise(result)) {
        finish(span, counter, undefined);
        return result;
      }
      return result.then(
        (value) => {
          finish(span, counter, undefined);
          return value;
        },
        (error: unknown) => {
          finish(span, counter, error);
          throw error;
        },
      );
    };
  };
  const finish = (span: Span | undefined, counter: Counter | undefined, error: unknown) => {
    if (error === undefined) counter?.add(1, base);
    if (span === undefined) return;
    if (error === undefined) {
      span.setAttribute('tessera.outcome', 'accepted');
    } else {
      const code = error instanceof TesseraError ? error.code : 'internal_error';
      span.setAttribute('tessera.outcome', 'refused');
      span.setAttribute('tessera.error.code', code);
      // The code, not the message: messages can quote what the token carried.
      span.setStatus({ code: STATUS_ERROR, message: code });
    }
    span.end();
  };

  manager.verify = observe('tessera.verify', verified, original.verify.bind(manager));
  manager.verifyToken = observe(
    'tessera.verify',
    verified,
    original.verifyToken.bind(manager),
  ) as typeof manager.verifyToken;
  manager.refreshTokens = observe(
    'tessera.refresh',
    undefined,
    original.refreshTokens.bind(manager),
  ) as typeof manager.refreshTokens;

  return () => {
    for (const off of unsubscribe) off();
    unsubscribe.length = 0;
    // The prototype's methods take over again.
    delete (manager as Partial<Pick<TokenManager<TUser>, 'verify' | 'verifyToken' | 'refreshTokens'>>).verify;
    delete (manager as Partial<Pick<TokenManager<TUser>, 'verifyToken'>>).verifyToken;
    delete (manager as Partial<Pick<TokenManager<TUser>, 'refreshTokens'>>).refreshTokens;
  };
}
