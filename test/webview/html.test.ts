import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentSecurityPolicy, makeNonce, panelHtml } from '../../client/panel/html';
import { isRequestMessage } from '../../webview/protocol';

const options = { cspSource: 'https://file+.vscode-resource.vscode-cdn.net', nonce: 'abc123', scriptUri: 'https://x/dist/webview.js', styleUri: 'https://x/dist/webview.css' };

void test('the panel CSP allows nothing by default, the script by nonce, styles only from the extension', () => {
  const policy = contentSecurityPolicy(options);
  const directives = new Map(policy.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
  assert.equal(directives.get('default-src'), "'none'");
  assert.equal(directives.get('script-src'), "'nonce-abc123'");
  assert.equal(directives.get('style-src'), options.cspSource);
  assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval|https?:\/\/(?!file\+)/);
});

void test('the HTML carries the policy in a meta tag and loads only the nonce script and the style sheet', () => {
  const html = panelHtml(options);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-abc123';/);
  assert.equal(html.match(/<script/g)?.length, 1);
  assert.match(html, /<script nonce="abc123" src="https:\/\/x\/dist\/webview.js"><\/script>/);
  assert.doesNotMatch(html, /style=|<style/);
});

void test('a new nonce per load', () => {
  let n = 0;
  const random = (size: number) => new Uint8Array(size).fill(n++);
  assert.notEqual(makeNonce(random), makeNonce(random));
  assert.equal(makeNonce(random).length, 32);
});

void test('only well-formed requests of known methods are answered', () => {
  assert.equal(isRequestMessage({ kind: 'request', id: 1, method: 'listRuns', params: {} }), true);
  assert.equal(isRequestMessage({ kind: 'request', id: 1, method: 'readFile', params: {} }), false);
  assert.equal(isRequestMessage({ kind: 'request', id: '1', method: 'listRuns', params: {} }), false);
  assert.equal(isRequestMessage({ kind: 'request', id: 1, method: 'listRuns' }), false);
  assert.equal(isRequestMessage(null), false);
});
