// The language contribution, seen through the VS Code API inside the extension host.
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateExtension, fixtureUri } from './util';

describe('language contribution', () => {
  it('opens .coi files as language "coi"', async () => {
    const doc = await vscode.workspace.openTextDocument(fixtureUri('summarize.coi'));
    assert.equal(doc.languageId, 'coi');
  });

  it('activates the extension for a workspace with .coi files', async () => {
    await activateExtension();
    assert.equal(vscode.extensions.getExtension('coi-studio.coi-studio')?.isActive, true);
  });
});
