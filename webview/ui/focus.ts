/**
 * Where the keyboard focus goes when a view of the panel is drawn anew by a user's action (a
 * job opened, the list back, the form closed): to the control or heading that continues what the
 * user did, never left on the document's body, where a screen reader says nothing and the next
 * Tab starts from the top of the panel.
 */

/**
 * Focuses `target` unless the user has gone elsewhere since (the focus is on a control outside
 * `view`, e.g. another tab); a Lit component (vscode-button) once it has rendered.
 */
export function focusInView(view: HTMLElement, target: HTMLElement | null | undefined): void {
  if (target === null || target === undefined) return;
  const active = document.activeElement;
  if (active !== null && active !== document.body && !view.contains(active)) return;
  const rendered = (target as { updateComplete?: Promise<unknown> }).updateComplete;
  if (rendered === undefined) target.focus();
  else void rendered.then(() => target.focus());
}
