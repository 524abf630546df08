/** Size limits applied before any decoding, so a huge token costs microseconds. */
export interface JwsLimits {
  /** Longest accepted token, in characters. Default 8192 (8 KiB). */
  readonly maxTokenLength: number;
  /** Longest accepted header segment, in characters. Default 2048. */
  readonly maxHeaderLength: number;
  /** Deepest accepted nesting of header or payload JSON. Default 16. */
  readonly maxJsonDepth: number;
}

/** The defaults of {@link JwsLimits}. */
export const DEFAULT_JWS_LIMITS: JwsLimits = Object.freeze({
  maxTokenLength: 8192,
  maxHeaderLength: 2048,
  maxJsonDepth: 16,
});
