import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { AS_RECORDED_NOTICE, knownJobFolder, readJobMetrics, readJobs, type JobRefresh } from '../../client/panel/jobSources';
import { createJob, jobDir, readConfig, readMetrics, updateState } from '../../core/finetune';
import { appendMetrics, followLog, jobRow, metricSeries } from '../../webview/model/jobs';
import { oneAtATime } from '../../webview/model/serial';
import { maxMetricBatch } from '../../webview/protocol';
import { fixtureConfig, fixtureMetrics, keylessRefresh, writeCancelledJob, writeCompletedJob } from '../helpers/jobFixture';
import { tempDir } from '../helpers/tempDir';

void test('metricSeries: loss and learning rate over the steps, gaps where a line lacks the value', () => {
  const metrics = [{ step: 1, loss: 2, learningRate: 1e-5 }, { step: 2, learningRate: 2e-5 }, { step: 3, loss: 1.5 }, { step: 4, epoch: 1 }];
  const { loss, learningRate } = metricSeries(metrics);
  assert.deepEqual(loss.labels, ['1', '2', '3']);
  assert.deepEqual(loss.datasets, [{ label: 'loss', data: [2, null, 1.5] }]);
  assert.deepEqual(learningRate.datasets, [{ label: 'learning rate', data: [1e-5, 2e-5, null] }]);
  const none = metricSeries([{ step: 1, epoch: 0.1 }]);
  assert.deepEqual([none.loss.datasets, none.learningRate.labels], [[], []]);
});

void test('appendMetrics: pushed lines are added once, a step already shown is not repeated', () => {
  const shown = fixtureMetrics(3);
  const merged = appendMetrics(shown, [...fixtureMetrics(5).slice(2)]);
  assert.deepEqual(merged.map((m) => m.step), [1, 2, 3, 4, 5]);
});

void test('followLog: new lines are appended and the lines that fell out of the tail dropped; a tail that does not go on from what is shown is shown whole', () => {
  const lines = (from: number, to: number): string => Array.from({ length: to - from + 1 }, (_, i) => `step ${from + i}\n`).join('');
  // The tail grew by two lines (the log is still shorter than the tail the extension reads).
  assert.deepEqual(followLog(lines(1, 3), lines(1, 5)), { drop: 0, append: lines(4, 5) });
  // The tail slid on: its first two lines are gone, two new ones came.
  assert.deepEqual(followLog(lines(1, 10), lines(3, 12)), { drop: lines(1, 2).length, append: lines(11, 12) });
  // A line being written (no newline yet) goes on.
  assert.deepEqual(followLog('a\nprogress 10%', 'a\nprogress 10% 20%\nb\n'), { drop: 0, append: ' 20%\nb\n' });
  assert.deepEqual(followLog(lines(1, 3), lines(1, 3)), { drop: 0, append: '' });
  assert.deepEqual(followLog('', lines(1, 2)), { drop: 0, append: lines(1, 2) });
  // Repeated lines: what is kept plus what is appended is always the tail.
  const shown = 'x\nx\nx\n';
  const step = followLog(shown, 'x\nx\ny\n') ?? assert.fail('goes on');
  assert.equal(shown.slice(step.drop) + step.append, 'x\nx\ny\n');
  // A rewritten log, a tail with nothing of what is shown, an emptied log: shown whole.
  assert.equal(followLog(lines(1, 3), 'other\n'), undefined);
  assert.equal(followLog(lines(1, 3), lines(20, 60)), undefined);
  assert.equal(followLog(lines(1, 3), ''), undefined);
});

void test('oneAtATime: calls during a run queue one more run (not one per call, none dropped); a queued run no longer wanted is skipped', async () => {
  /** A gate the next run waits at (later runs go through). */
  let open = (): void => undefined;
  let gate: Promise<void> | undefined;
  const closeGate = (): void => {
    gate = new Promise<void>((resolve) => (open = resolve));
  };
  const passGate = async (): Promise<void> => {
    const waiting = gate;
    gate = undefined;
    await waiting;
  };
  const runs: string[] = [];
  let version = 1;
  const read = oneAtATime(async () => {
    const seen = version;
    await passGate();
    runs.push(`read ${seen}`);
  });
  closeGate();
  const first = read();
  // Three changes while the first read is on its way: one more read, which sees the last of them.
  version = 2;
  const during = [read(), read()];
  version = 3;
  during.push(read());
  open();
  await Promise.all([first, ...during]);
  assert.deepEqual(runs, ['read 1', 'read 3'], 'the first read, then one queued for the three changes');
  // Nothing in flight: a call runs at once.
  await read();
  assert.deepEqual(runs, ['read 1', 'read 3', 'read 3']);

  // The view the read was for is gone: the queued run does not happen.
  let wanted = true;
  let count = 0;
  const gated = oneAtATime(
    async () => {
      count++;
      await passGate();
    },
    () => wanted,
  );
  closeGate();
  const running = gated();
  void gated();
  wanted = false;
  open();
  await running;
  assert.equal(count, 1);
});

void test('jobRow: status, method, base, steps done of total, last loss, checkpoint, what the user may do', () => {
  const workspace = tempDir();
  const { folder, state } = writeCancelledJob(workspace, 12);
  const row = jobRow(folder, state, fixtureConfig, readMetrics(folder));
  assert.equal(row.status, 'cancelled');
  assert.equal(row.method, 'lora');
  assert.equal(row.baseModel, 'Qwen/Qwen2.5-0.5B');
  assert.deepEqual([row.stepsDone, row.stepsTotal], [12, 40]);
  assert.equal(row.lastLoss, fixtureMetrics(12).at(-1)?.loss);
  assert.equal(row.checkpointStep, 12);
  assert.deepEqual([row.canCancel, row.canResume], [false, true]);
  const fresh = jobRow(folder, { ...state, status: 'queued', lastCheckpoint: undefined } as never, undefined, []);
  assert.deepEqual([fresh.stepsDone, fresh.stepsTotal, fresh.lastLoss, fresh.canCancel, fresh.canResume, fresh.method], [0, undefined, undefined, true, false, undefined]);
});

void test('jobRow: "Use as a model profile" only for a completed job with a GGUF (a LoRA one too), else the reason', () => {
  const workspace = tempDir();
  const completed = writeCompletedJob(workspace);
  const row = jobRow(completed.folder, completed.state, readConfig(completed.folder), readMetrics(completed.folder));
  assert.equal(row.status, 'completed');
  assert.equal(row.profileRefusal, undefined);
  const cancelled = writeCancelledJob(workspace, 3);
  assert.match(jobRow(cancelled.folder, cancelled.state, fixtureConfig, []).profileRefusal ?? '', /cancelled: only a completed job/);
  const lora = jobRow(completed.folder, completed.state, fixtureConfig, []);
  assert.equal(lora.profileRefusal, undefined, 'a converted LoRA job can be used (on its base)');
});

void test('readJobs: newest first, a running job whose process is gone shows as failed, a broken folder says why', async () => {
  const workspace = tempDir();
  const older = writeCancelledJob(workspace, 5, new Date('2026-12-01T10:00:00Z'));
  const newer = createJob(workspace, fixtureConfig, new Date('2026-12-02T10:00:00Z'));
  // A pid that cannot be a live process group: refreshState turns the job into failed.
  updateState(jobDir(workspace, newer.id), 'running', { pid: 2 ** 30 });
  const broken = join(workspace, '.coi-jobs', 'ft-broken');
  mkdirSync(broken);
  writeFileSync(join(broken, 'state.json'), '{ not json');
  // A state with no engine said "Unknown engine 'undefined'": now what is wrong with the file.
  const bogus = join(workspace, '.coi-jobs', 'ft-bogus');
  mkdirSync(bogus);
  writeFileSync(join(bogus, 'state.json'), '{"status":"bogus"}');
  const view = await readJobs([workspace], keylessRefresh);
  assert.deepEqual(view.jobs.map((j) => [j.id, j.status]), [[newer.id, 'failed'], [older.state.id, 'cancelled']]);
  assert.deepEqual(view.unreadable.map((u) => u.folder).sort(), [bogus, broken].sort());
  assert.match(view.unreadable.find((u) => u.folder === bogus)?.error ?? '', /ft-bogus\/state\.json is not a job state: it has no "id"/);
  assert.match(view.unreadable.find((u) => u.folder === broken)?.error ?? '', /ft-broken\/state\.json cannot be read: not valid JSON/);
  assert.deepEqual(view.searched, [join(workspace, '.coi-jobs')]);
});

void test('readJobs: a .coi-jobs that is a file, a job folder without state.json and a copied job folder are said in words; the other workspaces\' jobs are listed', async () => {
  const broken = tempDir();
  writeFileSync(join(broken, '.coi-jobs'), 'x\n');
  const workspace = tempDir();
  const { state } = writeCompletedJob(workspace);
  const stateless = jobDir(workspace, 'ft-stateless');
  mkdirSync(stateless);
  const copy = jobDir(workspace, 'ft-copy');
  cpSync(jobDir(workspace, state.id), copy, { recursive: true });
  for (const refresh of [keylessRefresh, 'as-recorded'] as const) {
    const view = await readJobs([broken, workspace], refresh);
    assert.deepEqual(view.jobs.map((j) => j.id), [state.id]);
    assert.deepEqual(view.unreadable.map((u) => u.folder).sort(), [join(broken, '.coi-jobs'), copy, stateless].sort());
    const errorOf = (folder: string): string => view.unreadable.find((u) => u.folder === folder)?.error ?? '';
    assert.match(errorOf(join(broken, '.coi-jobs')), /\.coi-jobs is not a directory: it is a file where coi keeps its fine-tuning jobs/);
    assert.match(errorOf(stateless), /ft-stateless\/state\.json is missing/);
    assert.match(errorOf(copy), new RegExp(`ft-copy/state\\.json is not a job state: it belongs to job "${state.id}", not to ft-copy`));
  }
  assert.throws(() => knownJobFolder(join(broken, '.coi-jobs', 'x'), [broken]), /is not a directory/);
});

void test('readJobMetrics: only the lines after fromLine, in batches of at most maxMetricBatch, with the log tail as text', async () => {
  const workspace = tempDir();
  const { folder } = writeCancelledJob(workspace, 10);
  const first = await readJobMetrics(folder, 0, keylessRefresh);
  assert.deepEqual([first.metrics.length, first.nextLine, first.more], [10, 10, false]);
  assert.match(first.logTail, /<b>not html<\/b>\nSaving checkpoint-10\n$/);
  appendFileSync(join(folder, 'metrics.jsonl'), fixtureMetrics(maxMetricBatch + 20).slice(10).map((m) => JSON.stringify(m)).join('\n') + '\n{"step": 99');
  const second = await readJobMetrics(folder, first.nextLine, keylessRefresh);
  assert.deepEqual([second.metrics[0]?.step, second.metrics.length, second.more], [11, maxMetricBatch, true]);
  const third = await readJobMetrics(folder, second.nextLine, keylessRefresh);
  assert.deepEqual([third.metrics.length, third.more, third.row.stepsDone], [10, false, maxMetricBatch + 20]);
});

void test('readJobs as recorded (Restricted Mode): no engine runs — no Slurm command, no process check, no key — and the view says the states may be out of date', async () => {
  const workspace = tempDir();
  const local = createJob(workspace, fixtureConfig, new Date('2026-12-01T10:00:00Z'));
  updateState(jobDir(workspace, local.id), 'running', { pid: 2 ** 30 }); // no such process: its engine would fail the job
  const slurm = createJob(workspace, { ...fixtureConfig, engine: 'slurm' }, new Date('2026-12-02T10:00:00Z'));
  updateState(jobDir(workspace, slurm.id), 'queued', { slurmJobId: '4242' });
  // An squeue that says whether it was run: its engine would ask it about job 4242.
  const bin = tempDir();
  const calls = join(bin, 'squeue.calls');
  writeFileSync(join(bin, 'squeue'), `#!/bin/sh\necho "$@" >> "${calls}"\necho 'RUNNING|None'\n`);
  chmodSync(join(bin, 'squeue'), 0o755);
  const stateFiles = (): string[] => [local.id, slurm.id].map((id) => readFileSync(join(jobDir(workspace, id), 'state.json'), 'utf8'));
  const before = stateFiles();

  const view = await readJobs([workspace], 'as-recorded');
  assert.deepEqual(view.jobs.map((j) => [j.id, j.status]), [[slurm.id, 'queued'], [local.id, 'running']]);
  assert.equal(view.notice, AS_RECORDED_NOTICE);
  assert.match(view.notice ?? '', /^Restricted Mode: .* may be out of date\. Trust the workspace/);
  const detail = await readJobMetrics(jobDir(workspace, local.id), 0, 'as-recorded');
  assert.deepEqual([detail.row.status, detail.notice], ['running', AS_RECORDED_NOTICE]);
  assert.equal(existsSync(calls), false, 'squeue was not run');
  assert.deepEqual(stateFiles(), before, 'no state.json was rewritten');

  // Trusted, the same jobs go through their engines: squeue is asked, the dead process's job fails.
  const trusted = await readJobs([workspace], (w) => Promise.resolve({ workspace: w, env: { PATH: `${bin}:${process.env['PATH'] ?? ''}` } }));
  assert.deepEqual(trusted.jobs.map((j) => [j.id, j.status]), [[slurm.id, 'running'], [local.id, 'failed']]);
  assert.equal(trusted.notice, undefined);
  assert.match(readFileSync(calls, 'utf8'), /-j 4242/);
});

void test('knownJobFolder: a listed job of an open workspace folder, nothing else (not .coi-jobs/.., not another tree)', async () => {
  const workspace = tempDir();
  const other = tempDir();
  const { folder } = writeCancelledJob(workspace, 3);
  const foreign = writeCancelledJob(other, 3);
  assert.equal(knownJobFolder(folder, [workspace]), folder);
  assert.equal(knownJobFolder(`${folder}/`, [workspace]), folder, 'normalized');
  assert.equal(knownJobFolder(join(workspace, '.coi-jobs', 'x', '..', basename(folder)), [workspace]), folder);
  mkdirSync(join(workspace, '.coi-jobs', '.ft-new.creating')); // a job being created: not one yet
  writeFileSync(join(workspace, '.coi-jobs', 'notes.txt'), 'a file, not a job folder');
  const refused = [join(workspace, '.coi-jobs', '..'), join(workspace, '.coi-jobs'), join(workspace, '.coi-jobs', '.ft-new.creating'), join(workspace, '.coi-jobs', 'notes.txt'), join(workspace, '.coi-jobs', 'ft-none'), foreign.folder, '', 42, undefined];
  for (const wanted of refused) {
    assert.throws(() => knownJobFolder(wanted, [workspace]), /^Error: Not a fine-tuning job of this workspace: /, String(wanted));
  }
  assert.equal(knownJobFolder(foreign.folder, [workspace, other]), foreign.folder, 'a job of the second workspace folder');
  // A job folder without state.json is listed (as unreadable): named, and what acts on it says why.
  const stateless = join(workspace, '.coi-jobs', 'no-state');
  mkdirSync(stateless);
  assert.equal(knownJobFolder(stateless, [workspace]), stateless);
  await assert.rejects(readJobMetrics(stateless, 0, keylessRefresh), /no-state\/state\.json is missing/);
});

void test('readJobs: a job\'s engine is asked at most once per interval (squeue once for a burst of reads, list and detail together); state.json in between', async () => {
  const workspace = tempDir();
  const slurm = createJob(workspace, { ...fixtureConfig, engine: 'slurm' }, new Date('2026-12-02T10:00:00Z'));
  const dir = jobDir(workspace, slurm.id);
  updateState(dir, 'queued', { slurmJobId: '4343' });
  const bin = tempDir();
  const calls = join(bin, 'squeue.calls');
  writeFileSync(join(bin, 'squeue'), `#!/bin/sh\necho "$@" >> "${calls}"\necho 'RUNNING|None'\n`);
  chmodSync(join(bin, 'squeue'), 0o755);
  const refresh: JobRefresh = (w) => Promise.resolve({ workspace: w, env: { PATH: `${bin}:${process.env['PATH'] ?? ''}` } });
  const squeueRuns = (): number => (existsSync(calls) ? readFileSync(calls, 'utf8').split('\n').filter((l) => l !== '').length : 0);

  // What the panel does on a burst of metric writes: list reads and detail reads, some at once.
  const views = await Promise.all([readJobs([workspace], refresh), readJobs([workspace], refresh), readJobMetrics(dir, 0, refresh)]);
  for (let i = 0; i < 5; i++) await readJobs([workspace], refresh);
  assert.equal(squeueRuns(), 1, 'one squeue for eight reads');
  assert.deepEqual(views.map((v) => ('jobs' in v ? v.jobs[0]?.status : v.row.status)), ['running', 'running', 'running']);
  assert.equal((await readJobs([workspace], refresh)).jobs[0]?.status, 'running', 'in between: as its state.json was last written');
  // Once the interval has passed (here: none), the engine is asked again.
  await readJobs([workspace], refresh, { engineEveryMs: 0 });
  assert.equal(squeueRuns(), 2);
});
