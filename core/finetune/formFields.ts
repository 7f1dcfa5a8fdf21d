/**
 * The fields of the side panel's New job form and the labels it shows them with: one list for
 * the form (webview/ui/jobForm.ts, which imports this file into the browser: no Node modules
 * here) and for the problems core/finetune/form.ts reports, which name a field by the label the
 * user sees ("Learning rate: 'abc' is not a number."), not by its key in a config file.
 */

/** A field of the form (a key of `JobForm`). */
export type FormField = 'engine' | 'baseModel' | 'data' | 'method' | 'epochs' | 'maxSteps' | 'learningRate' | 'perDeviceBatchSize' | 'gradientAccumulationSteps' | 'warmupRatio' | 'weightDecay' | 'saveSteps' | 'loraR' | 'loraAlpha';

/** Each field's visible label, in the form's order. */
export const FORM_LABELS: Readonly<Record<FormField, string>> = {
  baseModel: 'Base model',
  data: 'Training data',
  method: 'Method',
  engine: 'Engine',
  maxSteps: 'Max steps',
  epochs: 'Epochs',
  learningRate: 'Learning rate',
  perDeviceBatchSize: 'Batch size per device',
  gradientAccumulationSteps: 'Gradient accumulation',
  warmupRatio: 'Warm-up ratio',
  weightDecay: 'Weight decay',
  saveSteps: 'Checkpoint every N steps',
  loraR: 'LoRA rank',
  loraAlpha: 'LoRA alpha',
};

/**
 * A problem of the form, worded for it: a message that starts with the field's key in quotes
 * (the config file's wording, `'learningRate' must be …`) starts with its label instead
 * (`Learning rate must be …`); any other message about the field is prefixed with its label.
 */
export function formProblem(field: FormField, message: string, key: string = field): string {
  const label = FORM_LABELS[field];
  const quoted = `'${key}' `;
  return message.startsWith(quoted) ? `${label} ${message.slice(quoted.length)}` : `${label}: ${message}`;
}
