/**
 * The text of a notification, made inert. VS Code parses every notification's message (and a
 * progress notification's title and message) for `[label](command:…)`, `[label](https://…)` and
 * `[label](file:…)` and renders them as links; a click on a command link runs that command with
 * the arguments in the link. Our messages carry text the workspace wrote — a model's output in a
 * contract failure, step ids, job ids and names from `.coi-jobs/` and `.coi-evals/` — so a crafted
 * file could put a link that runs any command into an error toast. No `vscode` here: unit-tested.
 */

/**
 * VS Code's notification link syntax (src/vs/base/common/linkedText.ts, LINK_REGEX): every link
 * has a `]` directly followed by `(`.
 */
export const NOTIFICATION_LINK = /\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^)\s]+)(?: (["'])(.+?)(\3))?\)/gi;

/** Invisible, so the text reads as it was written; it separates `]` from `(`. */
const ZERO_WIDTH_SPACE = '\u200B';

/**
 * `text` with no link VS Code would render: a zero-width space goes between every `]` and the
 * `(` after it. Text without `](` — every message we write ourselves — is returned unchanged.
 */
export function inertLinks(text: string): string {
  return text.replaceAll('](', `]${ZERO_WIDTH_SPACE}(`);
}
