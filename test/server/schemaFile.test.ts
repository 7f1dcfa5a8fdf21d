// A `schema_file` created after the chain was opened (issue 12 item 11): the client's file
// watcher tells the server, which re-checks the open documents, so COI218 goes away without
// an edit — pushed again to a client that gets pushes, refreshed for one that pulls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DidChangeWatchedFilesNotification, FileChangeType } from 'vscode-languageserver-protocol/node';
import { fullCapabilities, LspClient, minimalCapabilities } from './harness';

const CHAIN = 'chain people\ninput text: text\nstep extract {\n  instruction "Extract the person as JSON."\n  from text\n  output json schema_file="person.schema.json"\n}\n';
const SCHEMA = JSON.stringify({ type: 'object', properties: { name: { type: 'string' } } });

function workspace(): { dir: string; uri: string; schema: string } {
  const dir = mkdtempSync(join(tmpdir(), 'coi-schema-'));
  writeFileSync(join(dir, 'people.coi'), CHAIN);
  return { dir, uri: pathToFileURL(join(dir, 'people.coi')).href, schema: join(dir, 'person.schema.json') };
}

void test('push: creating the schema file clears COI218 without an edit', { timeout: 30_000 }, async () => {
  const { dir, uri, schema } = workspace();
  const client = await LspClient.start({ capabilities: minimalCapabilities(), settings: { diagnostics: { debounceMs: 0 } } });
  try {
    await client.open(uri, CHAIN);
    await client.waitForPublished(uri, (p) => p.diagnostics.some((d) => d.code === 'COI218'));
    writeFileSync(schema, SCHEMA);
    await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: pathToFileURL(schema).href, type: FileChangeType.Created }] });
    const cleared = await client.waitForPublished(uri, (p) => !p.diagnostics.some((d) => d.code === 'COI218'));
    assert.deepEqual(cleared.diagnostics.filter((d) => d.severity === 1), []);
  } finally {
    await client.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('pull: creating the schema file asks the client to pull again, and the pull has no COI218', { timeout: 30_000 }, async () => {
  const { dir, uri, schema } = workspace();
  const client = await LspClient.start({ capabilities: fullCapabilities() });
  try {
    await client.open(uri, CHAIN);
    const before = await client.pullDiagnostics(uri);
    assert.ok(before.some((d) => d.code === 'COI218'), JSON.stringify(before));
    const refreshes = client.refreshRequests;
    writeFileSync(schema, SCHEMA);
    await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: pathToFileURL(schema).href, type: FileChangeType.Created }] });
    while (client.refreshRequests === refreshes) await new Promise((resolve) => setImmediate(resolve));
    assert.ok(!(await client.pullDiagnostics(uri)).some((d) => d.code === 'COI218'));
  } finally {
    await client.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a schema_file that is a FIFO is COI218, and the server goes on answering instead of waiting for a writer', { timeout: 30_000 }, async () => {
  const { dir, uri, schema } = workspace();
  assert.equal(spawnSync('mkfifo', [schema]).status, 0);
  const client = await LspClient.start({ capabilities: fullCapabilities() });
  try {
    await client.open(uri, CHAIN);
    const diagnostics = await client.pullDiagnostics(uri);
    assert.ok(diagnostics.some((d) => d.code === 'COI218' && typeof d.message === 'string' && d.message.includes('cannot be read')), JSON.stringify(diagnostics));
  } finally {
    await client.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

void test("a test's given for a json input is checked against its schema_file, at the value, and again when the file changes", { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coi-schema-'));
  const schema = join(dir, 'person.schema.json');
  writeFileSync(schema, SCHEMA);
  const chain = `chain people\ninput person: json schema_file="person.schema.json"\nstep greet {\n  instruction "Greet the person."\n  output text\n}\ntest "ada" {\n  given person = '{"name": "Ada"}'\n  expect greet contains "Ada"\n}\n`;
  const uri = pathToFileURL(join(dir, 'people.coi')).href;
  writeFileSync(join(dir, 'people.coi'), chain);
  const client = await LspClient.start({ capabilities: fullCapabilities() });
  try {
    const document = await client.open(uri, chain);
    assert.deepEqual(await client.pullDiagnostics(uri), []);
    // The schema now wants an age too: the run would refuse the test's input, and so does the editor.
    writeFileSync(schema, JSON.stringify({ type: 'object', required: ['name', 'age'], properties: { name: { type: 'string' }, age: { type: 'integer' } } }));
    const refreshes = client.refreshRequests;
    await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: pathToFileURL(schema).href, type: FileChangeType.Changed }] });
    while (client.refreshRequests === refreshes) await new Promise((resolve) => setImmediate(resolve));
    const after = await client.pullDiagnostics(uri);
    assert.deepEqual(
      after.map((d) => [d.code, d.message, document.getText(d.range)]),
      [['COI412', "Input 'person' does not match its JSON Schema: person must have required property 'age'.", `'{"name": "Ada"}'`]],
    );
  } finally {
    await client.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('an untitled document: a relative schema_file is noted as checked once saved (COI224, info); an absolute one is read at once', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'coi-schema-'));
  const broken = join(dir, 'broken.schema.json');
  writeFileSync(broken, '{"type": "strin"}');
  const client = await LspClient.start({ capabilities: fullCapabilities() });
  try {
    const relative = 'untitled:Untitled-1';
    await client.open(relative, CHAIN);
    const noted = await client.pullDiagnostics(relative);
    assert.deepEqual(
      noted.filter((d) => typeof d.code === 'string' && d.code.startsWith('COI2')).map((d) => [d.code, d.severity, d.message]),
      [['COI224', 3, "Schema file 'person.schema.json' is checked once the document is saved: an untitled document has no folder to find a relative path in."]],
    );
    const absolute = 'untitled:Untitled-2';
    await client.open(absolute, CHAIN.replace('person.schema.json', broken));
    const read = await client.pullDiagnostics(absolute);
    assert.ok(read.some((d) => d.code === 'COI217'), JSON.stringify(read));
  } finally {
    await client.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
