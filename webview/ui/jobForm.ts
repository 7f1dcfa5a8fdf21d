/**
 * The "New fine-tuning job" form of the Fine-tuning tab: base model, data, method, engine and
 * the hyper-parameters, each empty field meaning the paper's default (shown as its
 * placeholder). Start asks the extension (`startJob`), which checks the fields with
 * core/finetune's rules and shows the resolved job for confirmation; the problems it finds
 * come back and are listed under the form, each one about a field tied to it: the field is
 * marked invalid (`aria-invalid`) and described by its problem (`aria-describedby`), the first
 * such field gets the focus, and an edit of the field clears the mark.
 */
import type { JobForm } from '../../core/finetune/form';
import { FORM_LABELS, type FormField } from '../../core/finetune/formFields';
import type { JobFormView, StartJobResult } from '../protocol';
import { button, h, message, select } from './dom';
import { request } from './rpc';

type NumberField = Exclude<keyof JobForm, 'engine' | 'baseModel' | 'data' | 'method'>;

const NUMBER_FIELDS: readonly { key: NumberField; lora?: true }[] = [
  { key: 'maxSteps' },
  { key: 'epochs' },
  { key: 'learningRate' },
  { key: 'perDeviceBatchSize' },
  { key: 'gradientAccumulationSteps' },
  { key: 'warmupRatio' },
  { key: 'weightDecay' },
  { key: 'saveSteps' },
  { key: 'loraR', lora: true },
  { key: 'loraAlpha', lora: true },
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
  /** The form's controls by field, in the form's order (the first invalid one gets the focus). */
  const controls = new Map<FormField, HTMLElement>();
  const field = <E extends HTMLElement>(key: FormField, control: E): E => {
    control.id = `job-${key}`;
    controls.set(key, control);
    return control;
  };
  const textField = (key: 'baseModel' | 'data', kind: 'folder' | 'file'): HTMLElement => {
    const label = FORM_LABELS[key];
    const input = field(key, h('input', { type: 'text', class: 'input', 'aria-label': label, placeholder: kind === 'folder' ? 'path/to/hf-model' : 'data/train.jsonl' }));
    input.value = values[key];
    input.addEventListener('input', () => {
      values[key] = input.value;
      changed();
      valid(input);
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
  const numberRows = NUMBER_FIELDS.map(({ key, lora }) => {
    const fallback = key === 'maxSteps' ? 'none (epochs decide)' : String(view.defaults[key]);
    const input = field(key, h('input', { type: 'text', inputmode: 'decimal', class: 'input', 'aria-label': FORM_LABELS[key], placeholder: fallback }));
    input.value = values[key] ?? '';
    input.addEventListener('input', () => {
      values[key] = input.value;
      changed();
      valid(input);
    });
    const row = h('div', { class: 'form-row' }, h('label', { for: `job-${key}` }, FORM_LABELS[key]), input);
    if (lora === true) {
      row.hidden = values.method !== 'lora';
      loraRows.push(row);
    }
    return row;
  });
  const method = select(FORM_LABELS.method, [{ value: 'full', text: 'full (every weight)' }, { value: 'lora', text: 'LoRA adapter' }], values.method, (value) => {
    values.method = value;
    for (const row of loraRows) row.hidden = value !== 'lora';
    changed();
    valid(method);
  });
  field('method', method);
  const engine = field('engine', select(FORM_LABELS.engine, view.engines.map((e) => ({ value: e, text: e })), values.engine ?? 'trl', (value) => {
    values.engine = value;
    changed();
    valid(engine);
  }));
  /** The problems listed, each field with one marked invalid and described by it; the focus on the first such field. */
  const showProblems = (texts: readonly string[], fields: readonly (FormField | null)[] = []): void => {
    for (const control of controls.values()) valid(control);
    const described = new Map<FormField, string[]>();
    problems.replaceChildren(
      ...texts.map((text, index) => {
        const item = message(text, 'error');
        const key = fields[index];
        if (key === null || key === undefined || !controls.has(key)) return item;
        item.id = `job-${key}-problem-${index}`;
        described.set(key, [...(described.get(key) ?? []), item.id]);
        return item;
      }),
    );
    for (const [key, ids] of described) {
      const control = controls.get(key);
      control?.setAttribute('aria-invalid', 'true');
      control?.setAttribute('aria-describedby', ids.join(' '));
    }
    const first = [...controls].find(([key]) => described.has(key))?.[1];
    first?.focus();
  };
  // Unavailable from the click until the extension answers (started, refused, or the dialog declined): a double click starts one job.
  // aria-disabled, not disabled: a disabled button loses the focus (to the body), and a keyboard user would be thrown out of the form.
  const startButton = button('Start', () => void start(), { ariaLabel: 'Start the fine-tuning job' });
  const start = async (): Promise<void> => {
    problems.replaceChildren();
    startButton.setAttribute('aria-disabled', 'true');
    try {
      const result: StartJobResult = await request('startJob', { ...values });
      if (result === null) return;
      if ('folder' in result) onStarted(result.folder);
      else showProblems(result.problems, result.fields);
    } catch (error) {
      showProblems([error instanceof Error ? error.message : String(error)]);
    } finally {
      startButton.removeAttribute('aria-disabled');
    }
  };
  return h(
    'section',
    { 'aria-label': 'New fine-tuning job', class: 'job-form' },
    h('h2', {}, 'New fine-tuning job'),
    view.environmentReady ? null : message("The training environment is not set up yet: run 'coi finetune setup' in a terminal first (once; it makes the Python environment outside the workspace).", 'error'),
    h('p', { class: 'muted small' }, `Empty fields take the paper's defaults (shown greyed). Relative paths are read from ${view.workspace ?? 'the workspace folder'}.`),
    textField('baseModel', 'folder'),
    textField('data', 'file'),
    h('div', { class: 'form-row' }, h('label', { for: 'job-method' }, FORM_LABELS.method), method),
    h('div', { class: 'form-row' }, h('label', { for: 'job-engine' }, FORM_LABELS.engine), engine),
    ...numberRows,
    problems,
    h('div', { class: 'toolbar' }, startButton, button('Close', onClose, { secondary: true })),
  );
}

/** A field edited: no longer marked invalid (its problem stays listed until the next Start). */
function valid(control: HTMLElement): void {
  control.removeAttribute('aria-invalid');
  control.removeAttribute('aria-describedby');
}
