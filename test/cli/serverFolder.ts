/**
 * The fixture of the CLI tests that run chains against the OpenAI-protocol test server: the
 * server (answering "Hello." unless a test says otherwise) and a fresh folder holding the
 * given files, set up before the tests of the `describe` it is called in and closed after them.
 */
import { after, before } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tempDir';
import { startOpenAITestServer, type OpenAITestServer } from '../rig/openaiServer';

export interface ServerFolder {
  /** Set once the describe's `before` has run. */
  readonly server: OpenAITestServer;
  readonly dir: string;
}

/** Registers the before/after hooks in the calling `describe`; read the fields inside tests. */
export function serverAndFolder(files: Readonly<Record<string, string>>): ServerFolder {
  const fixture = {} as { server: OpenAITestServer; dir: string };
  before(async () => {
    fixture.server = await startOpenAITestServer({ reply: () => 'Hello.' });
    fixture.dir = tempDir();
    for (const [name, text] of Object.entries(files)) writeFileSync(join(fixture.dir, name), text);
  });
  after(async () => fixture.server.close());
  return fixture;
}
