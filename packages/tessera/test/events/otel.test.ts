/**
 * tessera-auth/otel with the real @opentelemetry/api: a span per verification and
 * per refresh with its outcome, counters of accepted and refused tokens (by code)
 * and of refresh reuse. The recorder below implements the API's Tracer, Span and
 * Counter interfaces in memory (no SDK), and takes everything else of a Meter from
 * the API's own no-op meter.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Attributes,
  type Context,
  type Counter,
  createNoopMeter,
  INVALID_SPAN_CONTEXT,
  type Meter,
  type MetricOptions,
  context as otelContext,
  type Span,
  type SpanAttributes,
  type SpanAttributeValue,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  SpanStatusCode,
  type Tracer,
} from '@opentelemetry/api';
import express from 'express';
import { ConfigError, MemoryStore, TokenManager } from 'tessera-auth';
import { createExpressAuth } from 'tessera-auth/express';
import { instrument } from 'tessera-auth/otel';
import { afterEach, describe, expect, it } from 'vitest';

const SECRET = 'otel-test-secret-0123456789-abcdefghijklmnop';

class RecordedSpan implements Span {
  readonly attributes: Record<string, SpanAttributeValue> = {};
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  ended = 0;
  constructor(
    public name: string,
    options?: SpanOptions,
  ) {
    Object.assign(this.attributes, options?.attributes ?? {});
  }
  spanContext(): SpanContext {
    return INVALID_SPAN_CONTEXT;
  }
  setAttribute(key: string, value: SpanAttributeValue): this {
    this.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: SpanAttributes): this {
    for (const [key, value] of Object.entries(attributes))
      if (value !== undefined) this.attributes[key] = value;
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.status = status;
    return this;
  }
  updateName(name: string): this {
    this.name = name;
    return this;
  }
  end(): void {
    this.ended++;
  }
  isRecording(): boolean {
    return this.ended === 0;
  }
  recordException(): void {}
}

class RecordingTracer implements Tracer {
  readonly spans: RecordedSpan[] = [];
  startSpan(name: string, options?: SpanOptions, _context?: Context): Span {
    const span = new RecordedSpan(name, options);
    this.spans.push(span);
    return span;
  }
  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    context: Context,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    const fn = rest[rest.length - 1] as F;
    const options = (rest.length > 1 ? rest[0] : undefined) as SpanOptions | undefined;
    return fn(this.startSpan(name, options, otelContext.active())) as ReturnType<F>;
  }
}

function recordingMeter(): {
  meter: Meter;
  points: Array<{ name: string; value: number; attributes: Attributes }>;
} {
  const points: Array<{ name: string; value: number; attributes: Attributes }> = [];
  const noop = createNoopMeter();
  const meter: Meter = Object.assign(Object.create(noop) as Meter, {
    createCounter(name: string, _options?: MetricOptions): Counter {
      return {
        add: (value: number, attributes: Attributes = {}) => points.push({ name, value, attributes }),
      };
    },
  });
  return { meter, points };
}

const counts = (points: Array<{ name: string; attributes: Attributes }>, name: string) =>
  points.filter((p) => p.name === name).map((p) => p.attributes);

describe('instrument(manager, { tracer, meter })', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('one span per verification through a real Express server, with outcome and code; counters by code', async () => {
    const manager = new TokenManager({ secret: SECRET });
    const tracer = new RecordingTracer();
    const { meter, points } = recordingMeter();
    instrument(manager, { tracer, meter });
    const auth = createExpressAuth(manager);
    const app = express();
    app.get('/protected', auth.jwtRequired(), (_req, res) => {
      res.json({ ok: true });
    });
    server = createServer(app);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/protected`;
    const good = await manager.createAccessToken({ identity: 'alice' });
    const expired = await manager.createAccessToken({ identity: 'alice', expiresIn: -60 });
    expect((await fetch(url, { headers: { authorization: `Bearer ${good}` } })).status).toBe(200);
    expect((await fetch(url, { headers: { authorization: `Bearer ${expired}` } })).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer a.b.c' } })).status).toBe(401);

    expect(
      tracer.spans.map((s) => [s.name, s.attributes['tessera.outcome'], s.attributes['tessera.error.code']]),
    ).toEqual([
      ['tessera.verify', 'accepted', undefined],
      ['tessera.verify', 'refused', 'token_expired'],
      ['tessera.verify', 'refused', 'token_malformed'],
    ]);
    expect(tracer.spans.every((s) => s.ended === 1)).toBe(true);
    expect(tracer.spans.map((s) => s.status.code)).toEqual([
      SpanStatusCode.UNSET,
      SpanStatusCode.ERROR,
      SpanStatusCode.ERROR,
    ]);
    expect(tracer.spans[0]?.attributes['tessera.profile']).toBe('standard');
    // No token text in any attribute or status message.
    const recorded = JSON.stringify(tracer.spans.map((s) => [s.attributes, s.status]));
    expect(recorded).not.toContain(expired.slice(0, 20));
    expect(recorded).not.toContain('alice');

    expect(counts(points, 'tessera.tokens.verified')).toHaveLength(1);
    expect(counts(points, 'tessera.tokens.refused')).toEqual([
      { 'tessera.profile': 'standard', 'tessera.error.code': 'token_expired', 'tessera.operation': 'verify' },
      {
        'tessera.profile': 'standard',
        'tessera.error.code': 'token_malformed',
        'tessera.operation': 'verify',
      },
    ]);
  });

  it('refresh spans, and reuse detection counted once', async () => {
    const manager = new TokenManager({
      secret: SECRET,
      store: new MemoryStore(),
      rotation: { graceSeconds: 0 },
    });
    const tracer = new RecordingTracer();
    const { meter, points } = recordingMeter();
    instrument(manager, { tracer, meter });
    const pair = await manager.createTokenPair({ identity: 'bob' });
    await manager.refreshTokens(pair.refreshToken);
    await expect(manager.refreshTokens(pair.refreshToken)).rejects.toMatchObject({
      code: 'refresh_token_reused',
    });
    expect(
      tracer.spans.map((s) => [s.name, s.attributes['tessera.outcome'], s.attributes['tessera.error.code']]),
    ).toEqual([
      ['tessera.refresh', 'accepted', undefined],
      ['tessera.refresh', 'refused', 'refresh_token_reused'],
    ]);
    expect(counts(points, 'tessera.refresh.reuse_detected')).toEqual([{ 'tessera.profile': 'standard' }]);
    expect(counts(points, 'tessera.tokens.refused')).toEqual([
      {
        'tessera.profile': 'standard',
        'tessera.error.code': 'refresh_token_reused',
        'tessera.operation': 'refresh',
      },
    ]);
  });

  it('verifyToken gets a span too; the returned function removes everything', async () => {
    const manager = new TokenManager({ secret: SECRET });
    const tracer = new RecordingTracer();
    const { meter, points } = recordingMeter();
    const stop = instrument(manager, { tracer, meter });
    const token = await manager.createAccessToken({ identity: 'carol' });
    expect((await manager.verifyToken(token)).identity).toBe('carol');
    expect(tracer.spans).toHaveLength(1);
    stop();
    expect(manager.events.listening('token_refused')).toBe(false);
    await manager.verifyToken(token);
    await expect(manager.verifyToken('a.b.c')).rejects.toMatchObject({ code: 'token_malformed' });
    expect(manager.verify(token)).not.toBeInstanceOf(Promise);
    expect(tracer.spans).toHaveLength(1);
    expect(points).toHaveLength(1);
  });

  it('a tracer alone, or a meter alone, works; unknown option keys are refused', async () => {
    const manager = new TokenManager({ secret: SECRET });
    const tracer = new RecordingTracer();
    instrument(manager, { tracer });
    await manager.verifyToken(await manager.createAccessToken({ identity: 'dan' }));
    expect(tracer.spans).toHaveLength(1);
    const other = new TokenManager({ secret: SECRET });
    const { meter, points } = recordingMeter();
    instrument(other, { meter });
    await expect(other.verifyToken('garbage')).rejects.toMatchObject({ code: 'token_malformed' });
    expect(counts(points, 'tessera.tokens.refused')).toHaveLength(1);
    expect(() => instrument(other, { tracer, metre: meter } as never)).toThrow(ConfigError);
  });
});
