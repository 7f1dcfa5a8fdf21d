/**
 * Text from files, records and models put into Markdown (editor hovers, completion
 * documentation, run previews, evaluation reports) so that it shows as written: no link,
 * image, emphasis, HTML or entity in it comes alive. A hover over a cloned repository's
 * step must never fetch a remote image or show a link its author dressed up as the
 * editor's own.
 */
import { visibleLines, visibleText } from './visible';

/** The longest run of backticks in `text` (0 when none). */
function longestBacktickRun(text: string): number {
  let longest = 0;
  for (const m of text.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  return longest;
}

/**
 * A fenced code block holding `text` as written, its fence longer than any backtick run in
 * it, so the text cannot close it (nothing inside a fence is Markdown). `language` names
 * the highlighting (`text`: none). Control and bidirectional characters are shown as escapes
 * (`visibleLines`), so the block cannot hide what the text says.
 */
export function fenced(text: string, language = 'text'): string {
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(text) + 1));
  return `${fence}${language}\n${visibleLines(text.replace(/\r\n?/g, '\n'))}\n${fence}\n`;
}

/**
 * An inline code span holding `text` on one line (line breaks shown as `\n`): its backtick
 * run is longer than any inside, and a space pads text that starts or ends with a backtick
 * or a space (CommonMark strips one from each side).
 */
export function inlineCode(text: string): string {
  const shown = visibleText(text);
  const ticks = '`'.repeat(longestBacktickRun(shown) + 1);
  const pad = /^[ `]|[ `]$/.test(shown) ? ' ' : '';
  return `${ticks}${pad}${shown}${pad}${ticks}`;
}

/**
 * Text as Markdown that shows it as written: no table cell, link, image, emphasis, code
 * span, entity or HTML can form, no address becomes a link (GFM links bare `https://…`,
 * `www.…` and e-mail addresses), and a line break, which would end a table row, a list
 * item or a paragraph, is a space.
 */
export function markdownEscape(text: string): string {
  return visibleText(text.replace(/\r\n|\r|\n/g, ' '))
    .replace(/[|\\`*_<>[\]&~]/g, (c) => `\\${c}`)
    .replace(/:(?=\/\/)|(?<=\bwww)\.|@/gi, (c) => `\\${c}`);
}
