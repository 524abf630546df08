export {
  type AnswerContext,
  type ErrorAnswer,
  flaskAnswer,
  rfc6750Answer,
  SIMPLEJWT_CHALLENGE,
  simpleJwtAnswer,
  simpleJwtTokenMessage,
} from './answers.js';
export {
  type BuiltInLocale,
  codeOfKey,
  englishMessage,
  formatMessage,
  isMessageKey,
  MESSAGE_CATALOGS,
  MESSAGE_KEYS,
  type MessageCatalog,
  type MessageKey,
  type MessageParams,
  type PartialMessageCatalog,
  placeholdersOf,
} from './catalog.js';
export {
  ENGLISH_MESSAGES,
  type MessagesOptions,
  type ResolvedMessages,
  resolveMessages,
} from './messages.js';
