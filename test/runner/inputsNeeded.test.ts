/**
 * The chain inputs a run needs: those read by the steps it generates, which are the steps up to
 * `stopAfter` (coi run --to, the editor's "Run to here") less the pinned ones; an input no step
 * reads is never needed. Pins past `stopAfter` are not read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inputsNeeded, pinsPastStop, readRunValues, RunRequestError } from '../../core/runner/run';
import { makeChain } from './helpers';

const chain = makeChain([{ id: 'first', from: ['x'] }, { id: 'second' }, { id: 'third', from: ['second', 'y'] }], ['x', 'y', 'unused']);
const names = (stopAfter: string | undefined, pinned?: Record<string, string>): string[] => inputsNeeded(chain, { stopAfter, ...(pinned !== undefined ? { pinned } : {}) }).map((input) => input.name);

void test('up to a step: the inputs the steps up to it read; every step (or an unknown one): the inputs some step reads, not an unread one', () => {
  assert.deepEqual(names('first'), ['x']);
  assert.deepEqual(names('second'), ['x']);
  assert.deepEqual(names('third'), ['x', 'y']);
  assert.deepEqual(names(undefined), ['x', 'y']);
  assert.deepEqual(names('nowhere'), ['x', 'y']);
  assert.deepEqual(inputsNeeded(chain).map((input) => input.name), ['x', 'y']);
});

void test('a pinned step is given, not generated: an input only it reads is not needed; one a later generated step reads still is', () => {
  assert.deepEqual(names('second', { first: 'given' }), []);
  assert.deepEqual(names(undefined, { first: 'given' }), ['y']);
  assert.deepEqual(names(undefined, { first: 'given', third: 'given' }), []);
  assert.deepEqual(names(undefined, { third: 'given' }), ['x']);
  // Pinning a step that reads no input changes nothing; a pin past the stop step is no part of the run.
  assert.deepEqual(names(undefined, { second: 'given' }), ['x', 'y']);
  assert.deepEqual(names('second', { third: 'given' }), ['x']);
});

void test('readRunValues asks only for the inputs needed; one not given is not among the values; one given is read all the same', () => {
  assert.deepEqual(readRunValues(chain, { inputs: { x: 'a' }, stopAfter: 'second' }).inputs, { x: 'a' });
  assert.deepEqual(readRunValues(chain, { inputs: { x: 'a', y: 'b' }, stopAfter: 'second' }).inputs, { x: 'a', y: 'b' });
  assert.deepEqual(readRunValues(chain, { inputs: { x: 'a', y: 'b' } }).inputs, { x: 'a', y: 'b' }, 'a run of every step without the unread input');
  assert.deepEqual(readRunValues(chain, { inputs: { y: 'b' }, pinned: { first: 'given' } }), { inputs: { y: 'b' }, pinned: { first: 'given' } });
  assert.throws(() => readRunValues(chain, { inputs: { x: 'a' } }), (error: unknown) => error instanceof RunRequestError && /Missing value for chain input "y"\.$/.test(error.message));
  assert.throws(() => readRunValues(chain, { inputs: { y: 'b' }, stopAfter: 'first' }), /Missing value for chain input "x"/);
  assert.throws(() => readRunValues(chain, { inputs: {}, pinned: { first: 'given' } }), /Missing value for chain input "y"/);
});

void test('a pin past the stop step is neither read against its contract nor among the values; up to it, it is', () => {
  const labelled = makeChain([{ id: 'facts' }, { id: 'mood', contract: { kind: 'label', labels: ['good', 'bad'] } }, { id: 'write' }]);
  assert.deepEqual(pinsPastStop(labelled, { stopAfter: 'facts', pinned: { mood: 'meh', facts: 'rain' } }), ['mood']);
  assert.deepEqual(pinsPastStop(labelled, { pinned: { mood: 'meh' } }), []);
  assert.deepEqual(readRunValues(labelled, { inputs: { text: 't' }, pinned: { mood: 'meh', facts: 'rain' }, stopAfter: 'facts' }).pinned, { facts: 'rain' });
  assert.throws(() => readRunValues(labelled, { inputs: { text: 't' }, pinned: { mood: 'meh' }, stopAfter: 'mood' }), /The pinned output of step "mood"/);
  assert.throws(() => readRunValues(labelled, { inputs: { text: 't' }, pinned: { mood: 'meh' } }), /The pinned output of step "mood"/);
});
