/**
 * Fixtures with cursor markers, shared by the core and the LSP tests: `⟦name⟧`
 * marks a position and is removed from the text.
 */
import { readFileSync } from 'node:fs';
import { repoPath } from './paths';

/** `fixture('step a { ⟦c⟧ }').at.c` is the offset where the marker was. */
export function fixture(marked: string): { text: string; at: Record<string, number> } {
  const at: Record<string, number> = {};
  let text = '';
  let last = 0;
  for (const match of marked.matchAll(/⟦(\w+)⟧/g)) {
    text += marked.slice(last, match.index);
    at[match[1] as string] = text.length;
    last = (match.index ?? 0) + match[0].length;
  }
  text += marked.slice(last);
  return { text, at };
}

/** Reads a fixture file from test/fixtures/server/ (with its markers resolved). */
export function fixtureFile(name: string): { text: string; at: Record<string, number> } {
  return fixture(readFileSync(repoPath('test', 'fixtures', 'server', name), 'utf8'));
}
