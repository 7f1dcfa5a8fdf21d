// "Use as a model profile": the model block a completed fine-tune adds to a .coi file, and
// the file still checks clean with the new profile in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDocument } from '../../core/check';
import { profileInsertion } from '../../core/finetune/profile';
import { profileRefusal, type JobState } from '../../core/finetune/job';

const CHAIN = `chain review
description "Summarize, then classify."

model base {
  provider local
  path "models/base.gguf"
}

input review: text

step summary {
  instruction "Summarize the review."
  from review
  output text
}
`;

function insert(text: string, at: { offset: number; text: string }): string {
  return text.slice(0, at.offset) + at.text + text.slice(at.offset);
}

const completed: JobState = { id: '2026-12-05-tiny', status: 'completed', engine: 'trl', createdAt: 'x', updatedAt: 'x', resumes: 0, ggufPath: '/work/p/.coi-jobs/2026-12-05-tiny/model-f16.gguf' };

void test('a completed full fine-tune becomes a profile after the last model block, with a path relative to the .coi file', () => {
  const at = profileInsertion(CHAIN, completed.id, completed.ggufPath ?? '', '/work/p/chains/review.coi');
  const after = insert(CHAIN, at);
  assert.equal(at.name, 'tuned_2026_12_05_tiny');
  assert.match(after, /path "models\/base.gguf"\n\}\n\nmodel tuned_2026_12_05_tiny \{\n  provider local\n  path "\.\.\/\.coi-jobs\/2026-12-05-tiny\/model-f16\.gguf"\n\}\n\ninput review/);
  const { diagnostics, chain } = checkDocument(after);
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  assert.ok(chain?.profiles.some((p) => p.name === at.name), 'the chain model has the new profile');
});

void test('a second use of the same job gets a name of its own; a file without models gets it after the header', () => {
  const once = insert(CHAIN, profileInsertion(CHAIN, 'j', '/abs/j.gguf'));
  const twice = profileInsertion(once, 'j', '/abs/j.gguf');
  assert.equal(twice.name, 'tuned_j_2');
  const bare = 'chain c\n\ninput x: text\n';
  const added = insert(bare, profileInsertion(bare, 'j', '/abs/j.gguf'));
  assert.match(added, /^chain c\n\nmodel tuned_j \{\n  provider local\n  path "\/abs\/j\.gguf"\n\}\n\ninput x/);
});

void test('only a completed job with a model can be used (its GGUF is made on first use); each refusal says why', () => {
  assert.equal(profileRefusal(completed), undefined);
  assert.equal(profileRefusal({ ...completed, ggufPath: undefined, resultDir: '/work/p/.coi-jobs/x/output/final' }), undefined, 'not converted yet: converted on first use');
  assert.match(profileRefusal({ ...completed, status: 'running' }) ?? '', /running: only a completed job/);
  assert.match(profileRefusal({ ...completed, ggufPath: undefined } as JobState) ?? '', /completed without a model folder/);
});

void test('a LoRA job becomes a profile of its base GGUF with the adapter on it, and the file checks clean', () => {
  const at = profileInsertion(CHAIN, 'lora-job', '/work/p/.coi-jobs/lora-job/base-f16.gguf', '/work/p/chains/review.coi', '/work/p/.coi-jobs/lora-job/adapter-f16.gguf');
  const after = insert(CHAIN, at);
  assert.match(after, /model tuned_lora_job \{\n  provider local\n  path "\.\.\/\.coi-jobs\/lora-job\/base-f16\.gguf"\n  lora "\.\.\/\.coi-jobs\/lora-job\/adapter-f16\.gguf"\n\}/);
  const { diagnostics, chain } = checkDocument(after);
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  const profile = chain?.profiles.find((p) => p.name === at.name);
  assert.ok(profile?.provider === 'local' && profile.lora?.path.endsWith('adapter-f16.gguf') === true, JSON.stringify(profile));
});
