/**
 * The side panel's HTML: a strict Content-Security-Policy (nothing by default, the one
 * script by its per-load nonce, styles and fonts only from the extension's dist/), no
 * inline style or script, no remote content. Pure so that a unit test can read the policy.
 */

export interface PanelHtmlOptions {
  /** `webview.cspSource`: the origin the webview serves the extension's files from. */
  readonly cspSource: string;
  readonly nonce: string;
  readonly scriptUri: string;
  readonly styleUri: string;
}

export function contentSecurityPolicy(options: Pick<PanelHtmlOptions, 'cspSource' | 'nonce'>): string {
  return [`default-src 'none'`, `script-src 'nonce-${options.nonce}'`, `style-src ${options.cspSource}`, `font-src ${options.cspSource}`, `img-src ${options.cspSource}`].join('; ');
}

const attribute = (value: string): string => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function panelHtml(options: PanelHtmlOptions): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${attribute(contentSecurityPolicy(options))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${attribute(options.styleUri)}">
<title>CoI Studio</title>
</head>
<body>
<main id="app" aria-busy="true"><p class="muted">Loading CoI Studio…</p></main>
<script nonce="${attribute(options.nonce)}" src="${attribute(options.scriptUri)}"></script>
</body>
</html>`;
}

/** 32 random base64 characters (a new one for every load of the panel). */
export function makeNonce(random: (size: number) => Uint8Array): string {
  return Buffer.from(random(24)).toString('base64');
}
