/**
 * Every `coi` subcommand, in the order `coi --help` lists them.
 * Adding a command is one line here plus its file `cli/commands/<name>.ts`, which
 * exports `command: Command` (see cli/command.ts). Commands load lazily, so a heavy
 * one (model backends) costs nothing to the others.
 */
import type { CommandEntry } from '../command';

export const commands: readonly CommandEntry[] = [
  { name: 'check', summary: 'Check .coi files: syntax, structure and composability.', load: async () => (await import('./check.js')).command },
  { name: 'import', summary: "Turn the paper's JSON records into .coi chains with tests.", load: async () => (await import('./import.js')).command },
  { name: 'export', summary: "Write the tests of .coi chains as the paper's JSON records.", load: async () => (await import('./export.js')).command },
  { name: 'run', summary: 'Run a chain: stream each step\'s output, or print the JSON run record.', load: async () => (await import('./run.js')).command },
  { name: 'test', summary: 'Run the test blocks of .coi files (text, JSON or JUnit report).', load: async () => (await import('./test.js')).command },
  { name: 'eval', summary: 'Evaluate chains on many items and models: scores with intervals, resumable, comparable.', load: async () => (await import('./eval.js')).command },
  { name: 'dataset', summary: 'Build, inspect and convert chain training sets (paper, OpenAI chat, TRL).', load: async () => (await import('./dataset.js')).command },
  { name: 'finetune', summary: 'Fine-tuning jobs: set up, start (TRL, Slurm or Together; full or LoRA), follow, cancel, resume, list, convert to GGUF, evaluate against the base.', load: async () => (await import('./finetune.js')).command },
];
