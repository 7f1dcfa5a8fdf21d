/**
 * The chain inputs a run needs: every input for a run of every step, only those the steps up to
 * `stopAfter` read for a shorter one (coi run --to, the editor's "Run to here").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inputsNeeded, readRunValues, RunRequestError } from '../../core/runner/run';
import { makeChain } from './helpers';

const chain = makeChain([{ id: 'first', from: ['x'] }, { id: 'second' }, { id: 'third', from: ['second', 'y'] }], ['x', 'y', 'unused']);
const names = (stopAfter: string | undefined): string[] => inputsNeeded(chain, stopAfter).map((input) => input.name);

void test('up to a step: the inputs the steps up to it read; every step (or an unknown one): every input, an unread one too', () => {
  assert.deepEqual(names('first'), ['x']);
  assert.deepEqual(names('second'), ['x']);
  assert.deepEqual(names('third'), ['x', 'y', 'unused']);
  assert.deepEqual(names(undefined), ['x', 'y', 'unused']);
  assert.deepEqual(names('nowhere'), ['x', 'y', 'unused']);
});

void test('readRunValues asks only for the inputs needed; one not given is not among the values; one given is read all the same', () => {
  assert.deepEqual(readRunValues(chain, { inputs: { x: 'a' }, stopAfter: 'second' }).inputs, { x: 'a' });
  assert.deepEqual(readRunValues(chain, { inputs: { x: 'a', y: 'b' }, stopAfter: 'second' }).inputs, { x: 'a', y: 'b' });
  assert.throws(() => readRunValues(chain, { inputs: { x: 'a' } }), (error: unknown) => error instanceof RunRequestError && /Missing value for chain inputs "y", "unused"/.test(error.message));
  assert.throws(() => readRunValues(chain, { inputs: { y: 'b' }, stopAfter: 'first' }), /Missing value for chain input "x"/);
});
