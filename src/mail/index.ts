/**
 * The message engine: everything IMAP and POP say about a message, computed
 * from its bytes. Pure functions; no mailboxes, no sessions.
 */
export type { ParsedMessage, Part } from './mime.js';
export { parseMessage, headerOf, resolvePart, countLines } from './mime.js';
export { envelope, envelopeFields, bodyStructure } from './structure.js';
export { parseSectionSpec, fetchSection, fetchBinary, binarySize, decodeBase64, decodeQuotedPrintable, type SectionSpec } from './section.js';
export { formatInternalDate, parseInternalDate, parseRfc5322Date, parseSearchDate, isSupportedCharset, supportedCharsets, decodeMimeWords, decodeCharset } from './text.js';
export { compileSearch, needsMessageData, parseSequenceSet, inSequenceSet, type SearchContext } from './search.js';
export { sortMessages, threadMessages, baseSubject, type SortInput } from './sort.js';
export type { ImapValue, SearchKey, SearchMessage, SortCriterion, SortKey, ThreadNode, NumberRanges } from './types.js';
export { parseHeaderFields, fieldsNamed, fieldValue } from './header.js';
