/**
 * Input values in one-line boxes: a multi-line value is written with `\n`
 * escapes (and `\\` for a backslash) so it can be seen and edited in a box, and
 * read back exactly. Kept free of `vscode` so it is unit tested.
 */

/** A value as the input box shows it: newlines as `\n`, tabs as `\t`, backslashes doubled. */
export function escapeInput(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\r?\n/g, '\\n').replace(/\t/g, '\\t');
}

/** The value typed in an input box: `\n`, `\t` and `\\` are read; any other backslash is kept as typed. */
export function unescapeInput(typed: string): string {
  return typed.replace(/\\([\\nt])/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : '\\'));
}

/** Values on one line for a pick list: line breaks shown as ⏎ (not glued), long ones cut. */
export function previewInputs(values: Readonly<Record<string, string>>, max = 90): string {
  const text = Object.entries(values)
    .map(([k, v]) => `${k}=${v.trim().replace(/[ \t]*\r?\n[ \t\r\n]*/g, ' ⏎ ').replace(/[ \t]+/g, ' ')}`)
    .join(', ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
