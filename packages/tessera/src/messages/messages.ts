/**
 * The `messages` option of a TokenManager: which language the standard
 * profile's answers speak, and the app's own catalogs and overrides. Validated
 * once, when the manager is built; per request only a failure looks anything up.
 */
import { ConfigError } from '../errors.js';
import { refuseUnknownOptions } from '../known-options.js';
import {
  type BuiltInLocale,
  codeOfKey,
  formatMessage,
  isMessageKey,
  MESSAGE_CATALOGS,
  MESSAGE_KEYS,
  type MessageKey,
  type MessageParams,
  type PartialMessageCatalog,
  placeholdersOf,
} from './catalog.js';
import { EN } from './en.js';

/**
 * How the standard profile's error answers are worded. The Python profiles
 * always answer with their peers' texts, whatever is set here.
 *
 * @example
 * ```ts
 * const manager = new TokenManager({
 *   secret: process.env.JWT_SECRET!,
 *   messages: {
 *     locale: 'accept-language',
 *     catalogs: { 'pt-BR': { token_expired: 'O token expirou' } },
 *     overrides: { token_revoked: 'Please sign in again' },
 *   },
 * });
 * ```
 */
export interface MessagesOptions {
  /**
   * The language of every answer (a shipped locale, or one added in `catalogs`),
   * or `'accept-language'` to pick per request from the request's
   * Accept-Language among the catalogs, English when none fits. Default `'en'`.
   */
  readonly locale?: BuiltInLocale | 'accept-language' | (string & {});
  /**
   * Catalogs by language tag (`'pt-BR'`), added or laid over a shipped one
   * (`de`). Partial: a key a catalog lacks reads in English. An entry for a code
   * (`token_malformed`) also words its refinements (`token_malformed.segments`)
   * unless the catalog words those too.
   */
  readonly catalogs?: Readonly<Record<string, PartialMessageCatalog>>;
  /** Texts that win in every language (same rules as a catalog's). */
  readonly overrides?: PartialMessageCatalog;
}

/** The validated `messages` option. */
export interface ResolvedMessages {
  /** The fixed locale, or `'accept-language'`. */
  readonly locale: string;
  /** The tags a catalog exists for, English first. */
  readonly locales: readonly string[];
  /** The text of `key` for a request with this Accept-Language header (ignored unless negotiating). */
  text(key: MessageKey, params: MessageParams | undefined, acceptLanguage?: string): string;
  /** The locale chosen for this Accept-Language header. */
  localeFor(acceptLanguage: string | undefined): string;
  /** The English text of `key` (the app's English entries and overrides included). */
  english(key: MessageKey, params: MessageParams | undefined): string;
}

const OPTION_KEYS = ['locale', 'catalogs', 'overrides'];
// BCP 47 in the shape apps write it: a language, then subtags (script, region, variant).
const TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

type Table = Readonly<Record<MessageKey, string>>;

/** Validate `options` (the TokenManager's `messages`) and build the tables. */
export function resolveMessages(options: MessagesOptions | undefined): ResolvedMessages {
  const given = options ?? {};
  if (typeof given !== 'object' || given === null) throw new ConfigError('messages must be an object');
  refuseUnknownOptions(given, OPTION_KEYS, 'messages');
  const added = given.catalogs ?? {};
  if (typeof added !== 'object' || added === null || Array.isArray(added)) {
    throw new ConfigError('messages.catalogs must map language tags to catalogs');
  }
  const overrides = checkedCatalog(given.overrides ?? {}, 'messages.overrides');
  const tables = new Map<string, Table>();
  const canonical = new Map<string, string>();
  const build = (tag: string, shipped: PartialMessageCatalog, own: PartialMessageCatalog) => {
    const table: Record<string, string> = { ...EN, ...shipped };
    spread(table, own);
    spread(table, overrides);
    tables.set(tag, Object.freeze(table) as Table);
    canonical.set(tag.toLowerCase(), tag);
  };
  const shippedTags = Object.keys(MESSAGE_CATALOGS) as BuiltInLocale[];
  const own = new Map<string, PartialMessageCatalog>();
  for (const [tag, catalog] of Object.entries(added)) {
    if (!TAG.test(tag)) {
      throw new ConfigError(`messages.catalogs: '${tag}' is not a language tag (such as 'pt-BR')`);
    }
    const shipped = shippedTags.find((t) => t.toLowerCase() === tag.toLowerCase());
    own.set(shipped ?? tag, checkedCatalog(catalog, `messages.catalogs['${tag}']`));
  }
  for (const tag of shippedTags) build(tag, MESSAGE_CATALOGS[tag], own.get(tag) ?? {});
  for (const [tag, catalog] of own) if (!tables.has(tag)) build(tag, {}, catalog);

  const locales = Object.freeze([...tables.keys()]);
  const en = tables.get('en')!;
  const english = (key: MessageKey, params: MessageParams | undefined) => formatMessage(en[key], params);
  const wanted = given.locale ?? 'en';
  if (typeof wanted !== 'string') throw new ConfigError('messages.locale must be a string');
  if (wanted === 'accept-language') {
    const localeFor = (header: string | undefined) => negotiate(header, canonical) ?? 'en';
    return Object.freeze({
      locale: wanted,
      locales,
      localeFor,
      english,
      text: (key: MessageKey, params: MessageParams | undefined, acceptLanguage?: string) =>
        formatMessage(tables.get(localeFor(acceptLanguage))![key], params),
    });
  }
  const locale = canonical.get(wanted.toLowerCase());
  if (locale === undefined) {
    throw new ConfigError(
      `messages.locale '${wanted}' has no catalog: use one of ${locales.join(', ')}, 'accept-language', or add it in messages.catalogs`,
    );
  }
  const table = tables.get(locale)!;
  return Object.freeze({
    locale,
    locales,
    localeFor: () => locale,
    english,
    text: (key: MessageKey, params: MessageParams | undefined) => formatMessage(table[key], params),
  });
}

/** The default: English, no catalogs added. */
export const ENGLISH_MESSAGES: ResolvedMessages = resolveMessages(undefined);

// An app's entry for a code words the code's refinements too, unless it words them itself.
function spread(table: Record<string, string>, own: PartialMessageCatalog): void {
  for (const [key, text] of Object.entries(own) as [MessageKey, string][]) {
    if (key.includes('.')) continue;
    for (const refinement of MESSAGE_KEYS) {
      if (refinement.includes('.') && codeOfKey(refinement) === key && own[refinement] === undefined) {
        table[refinement] = text;
      }
    }
    table[key] = text;
  }
  for (const [key, text] of Object.entries(own)) if (key.includes('.')) table[key] = text;
}

function checkedCatalog(catalog: unknown, where: string): PartialMessageCatalog {
  if (typeof catalog !== 'object' || catalog === null || Array.isArray(catalog)) {
    throw new ConfigError(`${where} must be an object of messages keyed by error code`);
  }
  for (const [key, text] of Object.entries(catalog)) {
    if (!isMessageKey(key)) {
      throw new ConfigError(
        `${where}: '${key}' is not an error code or message key (see docs/errors.md for the list)`,
      );
    }
    if (typeof text !== 'string' || text === '')
      throw new ConfigError(`${where}.${key} must be a non-empty string`);
    const allowed = placeholdersOf(EN[key]);
    const unknown = placeholdersOf(text).filter((name) => !allowed.includes(name));
    if (unknown.length > 0) {
      const known = allowed.length === 0 ? 'none' : allowed.map((n) => `{${n}}`).join(', ');
      throw new ConfigError(`${where}.${key} uses {${unknown.join('}, {')}}: its placeholders are ${known}`);
    }
  }
  return catalog as PartialMessageCatalog;
}

// Read at most this much of a client's header: it only picks among a few catalogs.
const MAX_HEADER = 512;
const MAX_RANGES = 16;

/**
 * The catalog for an Accept-Language header (RFC 9110 12.5.4, RFC 4647 lookup):
 * ranges by weight, each tried exactly and then with subtags dropped from the
 * end; `zh` and Simplified Chinese ranges reach `zh-CN`, Traditional ones do not.
 */
function negotiate(header: string | undefined, canonical: ReadonlyMap<string, string>): string | undefined {
  if (header === undefined || header === '') return undefined;
  const ranges: { tag: string; q: number; at: number }[] = [];
  const items = header.slice(0, MAX_HEADER).split(',', MAX_RANGES);
  for (let at = 0; at < items.length; at++) {
    const [range = '', ...params] = items[at]!.split(';');
    const tag = range.trim().toLowerCase();
    let q = 1;
    for (const param of params) {
      const [name, value] = param.split('=').map((p) => p.trim());
      if (name === 'q' && value !== undefined) q = Number(value);
    }
    if (tag === '' || tag === '*' || !(q > 0 && q <= 1)) continue;
    ranges.push({ tag, q, at });
  }
  ranges.sort((a, b) => b.q - a.q || a.at - b.at);
  for (const { tag } of ranges) {
    const traditional = /-(hant|tw|hk|mo)(-|$)/.test(tag);
    for (
      let candidate = tag;
      candidate !== '';
      candidate = candidate.slice(0, Math.max(0, candidate.lastIndexOf('-')))
    ) {
      const found = canonical.get(candidate);
      if (found !== undefined) return found;
      if (candidate === 'zh' && !traditional && canonical.has('zh-cn')) return canonical.get('zh-cn');
      if (!candidate.includes('-')) break;
    }
  }
  return undefined;
}
