// No `vscode` import here: the restart policy is tested in plain node.

/** At most this many crashes within the window are restarted automatically. */
export const RESTART_BUDGET = { crashes: 4, windowMs: 3 * 60 * 1000 };

/**
 * Counts crashes in a sliding window: the server is restarted while the budget allows,
 * then left stopped with a clear message (a server that crashes on start would otherwise
 * restart forever).
 */
export class RestartBudget {
  private crashes: number[] = [];
  constructor(
    private readonly limit = RESTART_BUDGET.crashes,
    private readonly windowMs = RESTART_BUDGET.windowMs,
  ) {}

  /** Records a crash; true when another restart is allowed. */
  recordCrash(now = Date.now()): boolean {
    this.crashes = this.crashes.filter((t) => now - t < this.windowMs);
    this.crashes.push(now);
    return this.crashes.length <= this.limit;
  }

  reset(): void {
    this.crashes = [];
  }
}
