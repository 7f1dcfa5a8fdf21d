/**
 * The Test Explorer: every `test` block of every `.coi` file in the workspace,
 * grouped by file. Running a test runs its chain on the test's inputs (through
 * the step cache) and reports each expectation; a failed one shows expected vs
 * actual (a diff for text) at the expectation's line.
 */
import * as vscode from 'vscode';
import type { ChainTest } from '../../core/chain';
import { type ExpectationResult, type TestResult, runChainTest } from '../../core/expectations';
import { type Span, LineMap } from '../../core/syntax';
import type { RunController } from '../run/controller';
import { chainOf, isCoiDocument, parseChainText, rangeOf } from '../run/documents';
import type { ModelSelection } from '../run/models';
import { runSettings } from '../run/settings';

const testId = (uri: vscode.Uri, name: string): string => `${uri.toString()}#${name}`;

export class CoiTestExplorer implements vscode.Disposable {
  readonly controller = vscode.tests.createTestController('coi', 'CoI chains');
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly runs: RunController,
    private readonly models: ModelSelection,
  ) {
    this.controller.resolveHandler = async (item) => {
      if (item === undefined) await this.discoverAll();
    };
    this.controller.refreshHandler = async () => this.discoverAll();
    this.controller.createRunProfile('Run', vscode.TestRunProfileKind.Run, async (request, token) => void (await this.runRequest(request, token)), true);
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.coi');
    this.disposables.push(
      this.controller,
      watcher,
      watcher.onDidCreate((uri) => void this.updateFromDisk(uri)),
      watcher.onDidChange((uri) => void this.updateFromDisk(uri)),
      watcher.onDidDelete((uri) => this.controller.items.delete(uri.toString())),
      vscode.workspace.onDidOpenTextDocument((d) => isCoiDocument(d) && this.updateFromDocument(d)),
      vscode.workspace.onDidChangeTextDocument((e) => isCoiDocument(e.document) && this.updateFromDocument(e.document)),
    );
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }

  async discoverAll(): Promise<void> {
    const files = await vscode.workspace.findFiles('**/*.coi', '**/node_modules/**');
    await Promise.all(files.map((uri) => this.updateFromDisk(uri)));
  }

  private async updateFromDisk(uri: vscode.Uri): Promise<void> {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (open !== undefined) return this.updateFromDocument(open);
    try {
      const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      const lines = new LineMap(text);
      this.updateItems(uri, parseChainText(text, uri.scheme === 'file' ? uri.fsPath : undefined).chain.tests, (span) => {
        const { start, end } = lines.rangeOf(span);
        return new vscode.Range(start.line, start.character, end.line, end.character);
      });
    } catch {
      this.controller.items.delete(uri.toString());
    }
  }

  /** An open document's tests come from the chain the CodeLens and previews use (parsed once per version). */
  private updateFromDocument(document: vscode.TextDocument): void {
    this.updateItems(document.uri, chainOf(document).chain.tests, (span) => rangeOf(document, span));
  }

  /** Rebuilds a file's test items (file item → one item per test block). */
  private updateItems(uri: vscode.Uri, tests: readonly ChainTest[], rangeFor: (span: Span) => vscode.Range): void {
    if (tests.length === 0) {
      this.controller.items.delete(uri.toString());
      return;
    }
    let fileItem = this.controller.items.get(uri.toString());
    if (fileItem === undefined) {
      fileItem = this.controller.createTestItem(uri.toString(), vscode.workspace.asRelativePath(uri), uri);
      this.controller.items.add(fileItem);
    }
    const children = tests.map((test) => {
      const item = this.controller.createTestItem(testId(uri, test.name), test.name, uri);
      item.range = rangeFor(test.span);
      return item;
    });
    fileItem.children.replace(children);
  }

  /**
   * Runs one test by name (the CodeLens, CoI: Run Test…), reporting in the Test Explorer too;
   * the Testing view's Stop cancels it (the run's own token).
   */
  async runOne(uri: vscode.Uri, name: string): Promise<TestResult | undefined> {
    const document = await vscode.workspace.openTextDocument(uri);
    this.updateFromDocument(document);
    const item = this.controller.items.get(uri.toString())?.children.get(testId(uri, name));
    if (item === undefined) return undefined;
    return (await this.runRequest(new vscode.TestRunRequest([item]))).get(item.id);
  }

  private collect(request: vscode.TestRunRequest): vscode.TestItem[] {
    const roots: vscode.TestItem[] = [];
    if (request.include !== undefined) roots.push(...request.include);
    else this.controller.items.forEach((item) => roots.push(item));
    const excluded = new Set((request.exclude ?? []).map((i) => i.id));
    const leaves: vscode.TestItem[] = [];
    const visit = (item: vscode.TestItem): void => {
      if (excluded.has(item.id)) return;
      if (item.children.size === 0) leaves.push(item);
      else item.children.forEach(visit);
    };
    roots.forEach(visit);
    return leaves;
  }

  /**
   * `token`: the run profile's (a run started from the Testing view). A run started here (runOne)
   * has only the TestRun's own token, which the Testing view's Stop cancels: both are heeded.
   */
  async runRequest(request: vscode.TestRunRequest, token?: vscode.CancellationToken): Promise<Map<string, TestResult>> {
    const results = new Map<string, TestResult>();
    const run = this.controller.createTestRun(request);
    const abort = new AbortController();
    const subscriptions = [token, run.token].map((t) => t?.onCancellationRequested(() => abort.abort()));
    if (token?.isCancellationRequested === true || run.token.isCancellationRequested) abort.abort();
    try {
      const leaves = this.collect(request);
      for (const item of leaves) run.enqueued(item);
      for (const item of leaves) {
        if (abort.signal.aborted) {
          run.skipped(item);
          continue;
        }
        const result = await this.runItem(item, run, abort.signal);
        if (result !== undefined) results.set(item.id, result);
      }
    } finally {
      for (const subscription of subscriptions) subscription?.dispose();
      run.end();
    }
    return results;
  }

  private async runItem(item: vscode.TestItem, run: vscode.TestRun, signal: AbortSignal): Promise<TestResult | undefined> {
    const uri = item.uri;
    if (uri === undefined) return undefined;
    run.started(item);
    const document = await vscode.workspace.openTextDocument(uri);
    const { chain, hasErrors, firstError } = chainOf(document);
    const test = chain.tests.find((t) => testId(uri, t.name) === item.id);
    if (test === undefined) {
      run.skipped(item);
      return undefined;
    }
    if (hasErrors) {
      run.errored(item, new vscode.TestMessage(`The chain has errors; fix them (see Problems) before running its tests: ${firstError ?? ''}`));
      return undefined;
    }
    let backends;
    try {
      backends = await this.models.resolverFor(document, chain);
    } catch (error) {
      run.errored(item, new vscode.TestMessage((error as Error).message));
      return undefined;
    }
    const settings = runSettings(uri);
    run.appendOutput(`Running test "${test.name}" of ${vscode.workspace.asRelativePath(uri)} with ${backends.label}\r\n`, undefined, item);
    const result = await runChainTest(chain, test, {
      backend: backends.resolver,
      ...(backends.defaultProfile !== undefined ? { defaultProfile: backends.defaultProfile } : {}),
      cache: this.runs.stepCache(uri),
      template: settings.template,
      ...(uri.scheme === 'file' ? { baseDir: vscode.Uri.joinPath(uri, '..').fsPath, file: uri.fsPath } : {}),
      ...(settings.timeoutMs !== undefined ? { timeoutMs: settings.timeoutMs } : {}),
      signal,
    });
    if (result.run !== undefined) {
      this.runs.showRecord(uri, result.run);
      this.runs.logRun(result.run, `Test "${test.name}" ${result.status}`);
      try {
        this.runs.runStore().save(result.run);
      } catch {
        // Saving the record is best effort here.
      }
    }
    if (signal.aborted) {
      // Stopped from the Testing view: neither passed nor failed.
      run.appendOutput(`Test "${test.name}" cancelled.\r\n`, undefined, item);
      run.skipped(item);
      return result;
    }
    report(run, item, document, test, result);
    return result;
  }
}

function expectationMessage(document: vscode.TextDocument, e: ExpectationResult): vscode.TestMessage {
  const text = ['equals', 'contains', 'rouge_l', 'label', 'one_of', 'matches'].includes(e.expectation.matcher) && e.expected !== undefined && e.actual !== undefined;
  const message = text ? vscode.TestMessage.diff(e.message, e.expected!, e.actual!) : new vscode.TestMessage(e.actual !== undefined ? `${e.message}\n\nactual:\n${e.actual}` : e.message);
  message.location = new vscode.Location(document.uri, rangeOf(document, e.span));
  return message;
}

function report(run: vscode.TestRun, item: vscode.TestItem, document: vscode.TextDocument, test: ChainTest, result: TestResult): void {
  for (const e of result.expectations) run.appendOutput(`${e.status === 'passed' ? '✓' : e.status === 'skipped' ? '-' : '✗'} ${e.message}\r\n`, undefined, item);
  if (result.status === 'error') {
    const message = new vscode.TestMessage(result.error ?? 'The test could not run.');
    message.location = new vscode.Location(document.uri, rangeOf(document, test.span));
    run.errored(item, message, result.durationMs);
    return;
  }
  const failures = result.expectations.filter((e) => e.status === 'failed' || e.status === 'error');
  if (failures.length === 0) run.passed(item, result.durationMs);
  else run.failed(item, failures.map((e) => expectationMessage(document, e)), result.durationMs);
}
