/**
 * What the extension would answer the panel, built from real data: two run records
 * written by `coi run` with the tiny model (the second with a markup output pinned), read
 * with core's RunStore, and a generated evaluation store of 10,000 results (core/eval's
 * computeReport and queryResults). For the browser-layer tests and the screenshots.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { ENGINE_NAMES, FORM_DEFAULTS, jobConfigFromForm, type JobForm } from '../../core/finetune';
import { join } from 'node:path';
import { readJobMetrics, readJobs } from '../../client/panel/jobSources';
import { keylessRefresh, writeCancelledJob, writeCompletedJob } from './jobFixture';
import { runDetail } from '../../client/panel/runView';
import { computeReport } from '../../core/eval/report';
import { queryResults } from '../../core/eval/store';
import { RunStore } from '../../core/runner/runStore';
import { filterRuns } from '../../webview/model/runs';
import { maxEvalPageSize, type EvalPageQuery, type RunFilter } from '../../webview/protocol';
import { coi } from '../cli/cliProcess';
import { generatedStore } from './evalStore';
import type { Answer } from './panelHarness';
import { repoPath } from './paths';
import { tempDir } from './tempDir';
import { writeTinyModel } from '../rig/tinyModel';

export const markup = '<img src=x onerror=alert(1)> </script><b>bold</b>';

/** The panel's action requests (jobs: cancel, resume, evaluate, use as profile; evaluations: resume, export), in order, as `method target`. */
export const panelActions: string[] = [];

export function panelData(): { answer: Answer; bestFinal: number } {
  const workspace = tempDir();
  copyFileSync(repoPath('test', 'fixtures', 'e2e-workspace', 'run-demo.coi'), join(workspace, 'run-demo.coi'));
  const model = writeTinyModel(join(workspace, 'tiny.gguf'));
  const common = ['run', 'run-demo.coi', '-i', 'I loved it.', '--model', model, '--threads', '1', '--json'];
  for (const extra of [[], ['--pin', `summary=${markup}`]]) {
    const result = coi([...common, ...extra], { cwd: workspace });
    assert.equal(result.code, 0, result.stderr);
  }
  // Two fine-tuning jobs: one cancelled with a checkpoint, one completed and converted.
  writeCancelledJob(workspace, 12);
  const completed = writeCompletedJob(workspace);
  // What the New job form may name: a model folder and a data file.
  mkdirSync(join(workspace, 'hf-model'));
  writeFileSync(join(workspace, 'hf-model', 'config.json'), '{"model_type": "llama"}\n'); // what makes it a model folder to the checks
  writeFileSync(join(workspace, 'train.jsonl'), '{"prompt": "p", "completion": "c"}\n');
  const runs = new RunStore(join(workspace, '.coi-cache', 'runs'));
  const store = generatedStore('/ws/.coi-evals/big', { name: 'big', items: 5000, outputOf: (i) => (i === 0 ? markup : undefined) });
  const report = computeReport(store, { resamples: 200 });
  const answer: Answer = (method, params) => {
    switch (method) {
      case 'listRuns':
        return { ...filterRuns(runs.list().map((s) => ({ ...s, origin: 'workspace' as const })), params as RunFilter), seq: params.seq };
      case 'openRun':
        return runDetail(runs.open(String(params.id)), 'workspace');
      case 'listEvals':
        return [{ store: store.dir, name: 'big', createdAt: store.config.createdAt, items: 5000, models: ['base.gguf', 'tuned.gguf'], modes: ['stepwise'] }];
      case 'openEval':
        return { store: store.dir, report, models: store.config.models.map((m) => ({ key: m.key, label: m.label })), modes: store.config.modes };
      case 'evalPage': {
        const q = params as unknown as EvalPageQuery;
        return queryResults(store.results, { ...q, limit: Math.min(maxEvalPageSize, q.limit) });
      }
      case 'listJobs':
        return readJobs([workspace], keylessRefresh);
      case 'jobMetrics':
        return readJobMetrics(String(params.folder), Number(params.fromLine), keylessRefresh);
      case 'cancelJob':
      case 'resumeJob':
      case 'evaluateJobAgainstBase':
      case 'useJobAsProfile':
        panelActions.push(`${method} ${String(params.folder)}`);
        return true;
      case 'exportEval':
      case 'resumeEval':
        panelActions.push(`${method} ${String(params.store)}${params.format === undefined ? '' : ` ${String(params.format)}`}`);
        return null;
      case 'jobForm':
        return { defaults: FORM_DEFAULTS, engines: ENGINE_NAMES, environmentReady: true, workspace };
      case 'pickPath':
        panelActions.push(`pickPath ${String(params.kind)}`);
        return params.kind === 'folder' ? join(workspace, 'hf-model') : null;
      case 'startJob': {
        // The extension's own check of the form (core/finetune), then the completed job stands for the new one.
        const checked = jobConfigFromForm(params as unknown as JobForm, workspace);
        if (checked.config === undefined) return { problems: checked.problems, fields: checked.fields };
        panelActions.push(`startJob ${JSON.stringify({ method: checked.config.method, maxSteps: checked.config.training.maxSteps, learningRate: checked.config.training.learningRate, lora: checked.config.lora?.r })}`);
        return { folder: completed.folder };
      }
      case 'models':
        return { chainFile: join(workspace, 'run-demo.coi'), profiles: [], selected: 'tiny.gguf', ggufFiles: [{ path: model, sizeBytes: 410_000, folder: 'workspace' }], searched: [{ folder: 'workspace', why: 'GGUF files in the open folders', exists: true }] };
      default:
        throw new Error(`unexpected request ${method}`);
    }
  };
  return { answer, bestFinal: Math.max(...store.results.map((r) => r.final.rougeL ?? -1)) };
}
