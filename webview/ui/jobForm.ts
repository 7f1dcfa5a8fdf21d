/**
 * The "New fine-tuning job" form of the Fine-tuning tab: base model, data, method, engine and
 * the hyper-parameters, each empty field meaning the paper's default (shown as its
 * placeholder). Start asks the extension (`startJob`), which checks the fields with
 * core/finetune's rules and shows the resolved job for confirmation; the problems it finds
 * come back and are listed under the form.
 */
import type { JobForm } from '../../core/finetune/form';
import type { JobFormView, StartJobResult } from '../protocol';
import { button, h, message, select } from './dom';
import { request } from './rpc';

type NumberField = Exclude<keyof JobForm, 'engine' | 'baseModel' | 'data' | 'method'>;

const NUMBER_FIELDS: readonly { key: NumberField; label: string; lora?: true }[] = [
  { key: 'maxSteps', label: 'Max steps' },
  { key: 'epochs', label: 'Epochs' },
  { key: 'learningRate', label: 'Learning rate' },
  { key: 'perDeviceBatchSize', label: 'Batch size per device' },
  { key: 'gradientAccumulationSteps', label: 'Gradient accumulation' },
  { key: 'warmupRatio', label: 'Warm-up ratio' },
  { key: 'weightDecay', label: 'Weight decay' },
  { key: 'saveSteps', label: 'Checkpoint every N steps' },
  { key: 'loraR', label: 'LoRA rank', lora: true },
  { key: 'loraAlpha', label: 'LoRA alpha', lora: true },
];

type FormValues = { -readonly [K in keyof JobForm]: string };

/**
 * The form, filled with `view`'s defaults and `saved` (what was typed before the view was hidden);
 * `onChange` gets every edit, `onStarted` the new job's folder.
 */
export function jobForm(view: JobFormView, onStarted: (folder: string) => void, onClose: () => void, saved: Readonly<Record<string, string>> = {}, onChange: (values: Readonly<Record<string, string>>) => void = () => undefined): HTMLElement {
  const values: FormValues = { engine: view.engines[0] ?? 'trl', baseModel: '', data: '', method: 'full' };
  const keys = new Set<string>(['engine', 'baseModel', 'data', 'method', ...NUMBER_FIELDS.map((f) => f.key)]);
  for (const [key, value] of Object.entries(saved)) if (keys.has(key) && typeof value === 'string') values[key as keyof FormValues] = value;
  if (!view.engines.includes(values.engine ?? '')) values.engine = view.engines[0] ?? 'trl';
  const changed = (): void => onChange({ ...values });
  const problems = h('div', { 'aria-live': 'polite' });
  const textField = (key: 'baseModel' | 'data', label: string, kind: 'folder' | 'file'): HTMLElement => {
    const input = h('input', { type: 'text', class: 'input', id: `job-${key}`, 'aria-label': label, placeholder: kind === 'folder' ? 'path/to/hf-model' : 'data/train.jsonl' });
    input.value = values[key];
    input.addEventListener('input', () => {
      values[key] = input.value;
      changed();
    });
    const browse = button('Browse…', () => {
      void request('pickPath', { kind, title: label }).then((path) => {
        if (path === null) return;
        input.value = path;
        values[key] = path;
        changed();
      });
    }, { secondary: true, ariaLabel: `Browse for the ${label.toLowerCase()}` });
    return h('div', { class: 'form-row' }, h('label', { for: `job-${key}` }, label), input, browse);
  };
  const loraRows: HTMLElement[] = [];
  const numberRows = NUMBER_FIELDS.map((field) => {
    const fallback = field.key === 'maxSteps' ? 'none (epochs decide)' : String(view.defaults[field.key]);
    const input = h('input', { type: 'text', inputmode: 'decimal', class: 'input', id: `job-${field.key}`, 'aria-label': field.label, placeholder: fallback });
    input.value = values[field.key] ?? '';
    input.addEventListener('input', () => {
      values[field.key] = input.value;
      changed();
    });
    const row = h('div', { class: 'form-row' }, h('label', { for: `job-${field.key}` }, field.label), input);
    if (field.lora === true) {
      row.hidden = values.method !== 'lora';
      loraRows.push(row);
    }
    return row;
  });
  const method = select('Method', [{ value: 'full', text: 'full (every weight)' }, { value: 'lora', text: 'LoRA adapter' }], values.method, (value) => {
    values.method = value;
    for (const row of loraRows) row.hidden = value !== 'lora';
    changed();
  });
  const engine = select('Engine', view.engines.map((e) => ({ value: e, text: e })), values.engine ?? 'trl', (value) => {
    values.engine = value;
    changed();
  });
  // Disabled from the click until the extension answers (started, refused, or the dialog declined): a double click starts one job.
  const startButton = button('Start', () => void start(), { ariaLabel: 'Start the fine-tuning job' });
  const start = async (): Promise<void> => {
    problems.replaceChildren();
    startButton.setAttribute('disabled', '');
    try {
      const result: StartJobResult = await request('startJob', { ...values });
      if (result === null) return;
      if ('folder' in result) onStarted(result.folder);
      else problems.replaceChildren(...result.problems.map((p) => message(p, 'error')));
    } catch (error) {
      problems.replaceChildren(message(error instanceof Error ? error.message : String(error), 'error'));
    } finally {
      startButton.removeAttribute('disabled');
    }
  };
  return h(
    'section',
    { 'aria-label': 'New fine-tuning job', class: 'job-form' },
    h('h2', {}, 'New fine-tuning job'),
    view.environmentReady ? null : message("The training environment is not set up yet: run 'coi finetune setup' in a terminal first (once; it makes the Python environment outside the workspace).", 'error'),
    h('p', { class: 'muted small' }, `Empty fields take the paper's defaults (shown greyed). Relative paths are read from ${view.workspace ?? 'the workspace folder'}.`),
    textField('baseModel', 'Base model', 'folder'),
    textField('data', 'Training data', 'file'),
    h('div', { class: 'form-row' }, h('label', {}, 'Method'), method),
    h('div', { class: 'form-row' }, h('label', {}, 'Engine'), engine),
    ...numberRows,
    problems,
    h('div', { class: 'toolbar' }, startButton, button('Close', onClose, { secondary: true })),
  );
}
