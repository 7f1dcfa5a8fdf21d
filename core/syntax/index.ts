/** core/syntax: what the adapters (client, server, CLI) use from this folder. */
export type { ChainDecl, CoiFile, Diagnostic, Severity, Span } from './ast';
export { checkWritableFolder, displayPath, isInsideFolder, makeDirectories, unwritableReason } from './directories';
export { envCacheDir, userCacheRoot } from './cacheFolders';
export { characterCount, firstLine, headOf } from './characters';
export { describeFsError } from './fsErrors';
export { formatEdits, formatRangeEdits } from './formatter';
export type { TextEdit } from './formatter';
export { isIdentifier } from './lexer';
export { LineMap } from './lineMap';
export type { Range } from './lineMap';
export { parse } from './parser';
export type { ParseResult } from './parser';
export { isTextFileRefusal, MAX_TEXT_BYTES, readRegularTextFile, REFUSAL_MESSAGES, refuseNonTextFile } from './textFile';
export type { TextFileRefusal } from './textFile';
export { partialPath, removeAbandonedPartials } from './processes';
export { invalidUtf8At, type InvalidUtf8 } from './utf8';
