/**
 * Content hashes of step definitions, for "is this preview stale?": a step's hash
 * covers its own definition (instruction, contract, binding, sampling, profile)
 * and the hashes of every step it reads, so editing a step makes its own preview
 * and those of all its dependents stale, and nothing else.
 */
import type { Chain, ChainStep } from '../chain/model';
import { sha256, stableStringify } from './cache';

function withoutSpan<T extends object>(value: T): Omit<T, 'span'> {
  const { span: _span, ...rest } = value as T & { span?: unknown };
  return rest;
}

/** Hashes already computed: a parsed chain never changes, and every run of it records them. */
const computed = new WeakMap<Chain, ReadonlyMap<string, string>>();

/** The definition hash of each step, by step id (computed once per chain object). */
export function stepDefinitionHashes(chain: Chain): ReadonlyMap<string, string> {
  let known = computed.get(chain);
  if (known === undefined) {
    known = computeHashes(chain);
    computed.set(chain, known);
  }
  return known;
}

function computeHashes(chain: Chain): Map<string, string> {
  const hashes = new Map<string, string>();
  const profiles = new Map(chain.profiles.map((p) => [p.name, withoutSpan(p)]));
  for (const step of chain.steps) hashes.set(step.id, stepHash(step, chain, profiles, hashes));
  return hashes;
}

function stepHash(step: ChainStep, chain: Chain, profiles: ReadonlyMap<string, unknown>, earlier: ReadonlyMap<string, string>): string {
  const profileName = step.profile ?? chain.defaultProfile;
  return sha256(
    stableStringify({
      instruction: step.instruction,
      contract: step.contract,
      sampling: step.sampling,
      profile: profileName === undefined ? null : (profiles.get(profileName) ?? profileName),
      sources: step.sources.map((s) => (s.kind === 'step' ? { step: s.id, hash: earlier.get(s.id) ?? null } : { input: s.name })),
    }),
  );
}

/** Ids of `stepId` and every step that reads it, directly or not. */
export function dependentsOf(chain: Chain, stepId: string): Set<string> {
  const affected = new Set([stepId]);
  for (const step of chain.steps) {
    if (step.sources.some((s) => s.kind === 'step' && affected.has(s.id))) affected.add(step.id);
  }
  return affected;
}
