/**
 * Text from outside (model outputs, test names) shown on a terminal: its control
 * characters are shown escaped, so an output cannot move the cursor, recolour or
 * clear the screen, or ring the bell. The JSON and XML reports keep the text whole.
 */

/** C0 controls but tab and line feed, DEL and the C1 controls, as `\u001b`. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export function escapeControls(text: string): string {
  return text.replace(CONTROL, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
