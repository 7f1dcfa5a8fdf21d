/**
 * package.json's promises about where the commands are: the step commands that coi.codeLens.mode
 * "minimal" takes off the CodeLens are in the editor's context menu of a .coi file, as its
 * description says, and every menu item names a contributed command.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface MenuItem {
  readonly command: string;
  readonly when?: string;
}
interface Manifest {
  readonly contributes: {
    readonly commands: readonly { readonly command: string }[];
    readonly menus: Readonly<Record<string, readonly MenuItem[]>>;
    readonly configuration: { readonly properties: Readonly<Record<string, { readonly enum?: readonly string[]; readonly enumDescriptions?: readonly string[] }>> };
  };
}

const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as Manifest;

void describe('package.json menus', () => {
  void test('the editor context menu of a .coi file has the step commands "minimal" moves off the CodeLens', () => {
    const context = manifest.contributes.menus['editor/context'] ?? [];
    for (const command of ['coi.run', 'coi.runToStep', 'coi.rerunFromStep', 'coi.pinStepOutput', 'coi.runTest']) {
      const item = context.find((i) => i.command === command);
      assert.ok(item, `${command} is in the editor context menu`);
      assert.equal(item.when, 'editorLangId == coi', `${command} only for .coi files`);
    }
    const mode = manifest.contributes.configuration.properties['coi.codeLens.mode'];
    const minimal = mode?.enumDescriptions?.[mode.enum?.indexOf('minimal') ?? -1] ?? '';
    assert.match(minimal, /editor context menu/);
  });

  void test('every menu item names a contributed command', () => {
    const commands = new Set(manifest.contributes.commands.map((c) => c.command));
    for (const [menu, items] of Object.entries(manifest.contributes.menus)) {
      for (const item of items) assert.ok(commands.has(item.command), `${menu}: ${item.command} is not contributed`);
    }
  });
});
