// Small .coi documents the `coi check` tests share (files on disk and standard input).

/** Two errors: an unknown reference (6:8, COI205) and an unterminated string (11:15, COI102). */
export const BAD = [
  'chain bad',
  'input article: text',
  '',
  'step summary {',
  '  instruction "Summarize the article."',
  '  from artcle',
  '  output text',
  '}',
  '',
  'step title {',
  '  instruction "Write a title for the summary.',
  '  output text',
  '}',
  '',
].join('\n');

/** BAD's first diagnostic as `coi check --format json` writes it (0-based range), for `file`. */
export function badUnknownReferenceEntry(file: string): Record<string, unknown> {
  return {
    file,
    range: { start: { line: 5, character: 7 }, end: { line: 5, character: 13 } },
    severity: 'error',
    code: 'COI205',
    message: "Unknown reference 'artcle': no chain input or earlier step has this id. Did you mean 'article'?",
  };
}

/** One warning: an input no step reads (4:7, COI207). */
export const WARN = ['chain w', '', 'input a: text', 'input unused: text', '', 'step s {', '  instruction "Summarize the text."', '  output text', '}', ''].join('\n');
