/** The paper's record format ↔ chains: reading, writing, markers, `.coi` import and export. */
export * from './markers';
export * from './paperRecords';
export * from './toCoi';
export * from './fromChain';
export { fitsTextBlock, stringLiteral, slugify } from './coiText';
export { parseJsonWithPosition } from './jsonPosition';
export { visibleLines, visibleText } from './visible';
export { fenced, inlineCode, markdownEscape } from './markdown';
