/**
 * What the editor knows about the runs of each document: per step, its latest
 * result or the text streaming in, and the definition hash it was produced
 * from (to show a preview as stale once the step or anything upstream changes).
 */
import * as vscode from 'vscode';
import type { RunRecord, StepRunResult, StepStatus } from '../../core/runner';

export interface StepView {
  /** `pending`: a re-run is under way and this step's old result will be replaced. */
  readonly status: StepStatus | 'running' | 'pending';
  readonly text: string;
  readonly result?: StepRunResult;
  readonly definitionHash: string;
  /** For a pending step: what it showed before the run began. */
  readonly previous?: StepView;
}

export interface DocumentRuns {
  readonly steps: Map<string, StepView>;
  record?: RunRecord;
  running?: AbortController;
  /** Outputs the user pinned, used instead of generating those steps. */
  readonly pins: Map<string, string>;
}

export class RunState implements vscode.Disposable {
  private readonly documents = new Map<string, DocumentRuns>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  /** A document's pinned outputs changed (not each streamed token, as onDidChange): the model status bar item follows them. */
  private readonly pinsChanged = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChangePins = this.pinsChanged.event;

  get(uri: vscode.Uri): DocumentRuns {
    const key = uri.toString();
    let runs = this.documents.get(key);
    if (runs === undefined) {
      runs = { steps: new Map(), pins: new Map() };
      this.documents.set(key, runs);
    }
    return runs;
  }

  peek(uri: vscode.Uri): DocumentRuns | undefined {
    return this.documents.get(uri.toString());
  }

  /** The document's pinned outputs, by step id (none: `{}`), as a run is given them. */
  pinned(uri: vscode.Uri): Record<string, string> {
    return Object.fromEntries(this.peek(uri)?.pins ?? []);
  }

  /** Pins a step's output (`undefined`: unpins it). */
  setPin(uri: vscode.Uri, stepId: string, value: string | undefined): void {
    const pins = this.get(uri).pins;
    if (value === undefined) pins.delete(stepId);
    else pins.set(stepId, value);
    this.changed.fire(uri);
    this.pinsChanged.fire(uri);
  }

  setStep(uri: vscode.Uri, id: string, view: StepView): void {
    this.get(uri).steps.set(id, view);
    this.changed.fire(uri);
  }

  /** Marks these steps pending: a run under way is about to replace their results. */
  markPending(uri: vscode.Uri, stepIds: readonly string[]): void {
    const steps = this.get(uri).steps;
    for (const id of stepIds) {
      const view = steps.get(id);
      if (view !== undefined && view.status !== 'running') steps.set(id, { ...view, status: 'pending', previous: view });
    }
    this.changed.fire(uri);
  }

  /** After a run: a step it never reached (it failed or was refused earlier) shows its old result again. */
  settlePending(uri: vscode.Uri): void {
    const steps = this.get(uri).steps;
    for (const [id, view] of steps) if (view.status === 'pending') steps.set(id, view.previous ?? { ...view, status: 'skipped' });
    this.changed.fire(uri);
  }

  notify(uri: vscode.Uri): void {
    this.changed.fire(uri);
  }

  clearAll(): void {
    for (const [key, runs] of this.documents) {
      runs.steps.clear();
      runs.record = undefined;
      this.changed.fire(vscode.Uri.parse(key));
    }
  }

  dispose(): void {
    for (const runs of this.documents.values()) runs.running?.abort();
    this.changed.dispose();
    this.pinsChanged.dispose();
  }
}
