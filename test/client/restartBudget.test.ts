// The extension's crash policy: restart the language server at most 4 times in 3 minutes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESTART_BUDGET, RestartBudget } from '../../client/restartBudget';

void test('four crashes in three minutes are restarted, the fifth is not', () => {
  const budget = new RestartBudget();
  const t0 = 1_000_000;
  for (let i = 0; i < RESTART_BUDGET.crashes; i++) assert.equal(budget.recordCrash(t0 + i * 1000), true);
  assert.equal(budget.recordCrash(t0 + 10_000), false);
});

void test('crashes older than the window are forgotten; a manual restart resets the budget', () => {
  const budget = new RestartBudget(2, 60_000);
  assert.equal(budget.recordCrash(0), true);
  assert.equal(budget.recordCrash(1000), true);
  assert.equal(budget.recordCrash(2000), false);
  assert.equal(budget.recordCrash(70_000), true, 'the first three left the window');
  budget.reset();
  assert.equal(budget.recordCrash(70_500), true);
  assert.equal(budget.recordCrash(71_000), true);
});
