/**
 * Message catalogs: what an error says, keyed by error code (and a few
 * refinements `code.detail`), in the languages Tessera ships. The engine never
 * formats a client-facing sentence itself: it names the key and its parameters,
 * and the text is looked up when an answer is built (or once, in English, when
 * the error is created), so a token that verifies pays nothing for messages.
 */
import { EN } from './en.js';
import { DE } from './locales/de.js';
import { ES } from './locales/es.js';
import { FR } from './locales/fr.js';
import { JA } from './locales/ja.js';
import { ZH_CN } from './locales/zh-cn.js';

/** A catalog entry: an error code, or a refinement of one (`token_malformed.segments`). */
export type MessageKey = keyof typeof EN;

/** Values for a message's `{placeholders}`. */
export type MessageParams = Readonly<Record<string, string | number>>;

/** A full catalog: a message for every key. */
export type MessageCatalog = Readonly<Record<MessageKey, string>>;

/** A catalog an app supplies: any subset; missing keys fall back to English. */
export type PartialMessageCatalog = Readonly<Partial<Record<MessageKey, string>>>;

/** The languages Tessera ships a catalog for. */
export type BuiltInLocale = 'en' | 'zh-CN' | 'es' | 'de' | 'fr' | 'ja';

/** The shipped catalogs, English first. */
export const MESSAGE_CATALOGS: Readonly<Record<BuiltInLocale, MessageCatalog>> = Object.freeze({
  en: Object.freeze(EN),
  'zh-CN': Object.freeze(ZH_CN),
  es: Object.freeze(ES),
  de: Object.freeze(DE),
  fr: Object.freeze(FR),
  ja: Object.freeze(JA),
});

/** Every catalog key, in the English catalog's order. */
export const MESSAGE_KEYS: readonly MessageKey[] = Object.freeze(Object.keys(EN) as MessageKey[]);

const KEY_SET: ReadonlySet<string> = new Set(MESSAGE_KEYS);

/** Is `key` a catalog key? */
export function isMessageKey(key: unknown): key is MessageKey {
  return typeof key === 'string' && KEY_SET.has(key);
}

/** The error code a key belongs to (`token_malformed.segments` → `token_malformed`). */
export function codeOfKey(key: MessageKey): string {
  const dot = key.indexOf('.');
  return dot < 0 ? key : key.slice(0, dot);
}

/** The `{names}` a template uses, sorted (for comparing a translation with English). */
export function placeholdersOf(template: string): string[] {
  return [...new Set([...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))].sort();
}

/** Fill `{name}` placeholders; a name without a value stays as written. */
export function formatMessage(template: string, params: MessageParams | undefined): string {
  if (params === undefined || !template.includes('{')) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : String(value);
  });
}

/** The English text of `key`. */
export function englishMessage(key: MessageKey, params?: MessageParams): string {
  return formatMessage(EN[key], params);
}
