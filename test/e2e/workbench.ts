// A small page object over the VS Code web workbench (code-server), for the UI tests.
// Every wait is for an event the user would see (a DOM node, a text), never a fixed sleep.
import type { Locator, Page } from 'playwright-core';

/** How long one UI step may take before the test fails (the workbench is slow on 2 cores). */
export const STEP_TIMEOUT_MS = 30_000;

/** How many of the workbench's last console warnings and errors a failure report shows. */
const CONSOLE_LINES_KEPT = 30;

export interface Problem {
  severity: 'error' | 'warning' | 'info';
  message: string;
  line: number;
  column: number;
  file: string;
}

export class Workbench {
  /** What the test did through the palette, for the failure report (which command, which rows were listed). */
  readonly trail: string[] = [];
  /**
   * The workbench's own warnings and errors from the browser console (the window's log goes
   * there in VS Code for the web), the last ones, for the failure report: a command the
   * workbench dropped says why only there.
   */
  private readonly consoleLines: string[] = [];

  constructor(readonly page: Page) {
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    page.on('console', (message) => {
      if (message.type() !== 'error' && message.type() !== 'warning') return;
      this.rememberConsole(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => this.rememberConsole(`uncaught: ${String(error)}`));
  }

  private rememberConsole(line: string): void {
    this.consoleLines.push(`${new Date().toISOString().slice(11, 23)} ${line.replace(/\s+/g, ' ').slice(0, 300)}`);
    if (this.consoleLines.length > CONSOLE_LINES_KEPT) this.consoleLines.shift();
  }

  /** Opens the workspace folder and waits for the workbench to be usable. */
  async open(baseUrl: string, folder: string): Promise<void> {
    // COI_E2E_CPU_THROTTLE=N runs the page N times slower (Chromium's CPU throttling): a
    // busy machine on demand, to reproduce failures that only come under load.
    const throttle = Number(process.env.COI_E2E_CPU_THROTTLE ?? 1);
    if (throttle > 1) await (await this.page.context().newCDPSession(this.page)).send('Emulation.setCPUThrottlingRate', { rate: throttle });
    await this.page.goto(`${baseUrl}/?folder=${encodeURIComponent(folder)}`);
    await this.page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout: 90_000 });
    // The explorer lists the workspace once the remote file system answers.
    await this.page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ state: 'visible', timeout: 90_000 });
  }

  /**
   * Waits until the workbench has finished starting. VS Code creates the last part of itself
   * (its "after restore" contributions) only while the page is idle, one at a time, so on a
   * busy machine that takes many seconds after the window is usable. One of them registers the
   * extensions' log output channels with the Output view: until it exists, `CoI: Show Output`
   * (`LogOutputChannel.show()`) is dropped without a word, since the Output service does not
   * know the channel yet (MainThreadOutputService.$reveal). Read from VS Code's own startup mark.
   */
  async whenStarted(): Promise<void> {
    await this.page
      .waitForFunction(() => performance.getEntriesByName('code/didCreateWorkbenchContributions/3').length > 0, undefined, { timeout: 90_000, polling: 100 })
      .catch((error: unknown) => {
        throw new Error(`the workbench did not finish starting (no "code/didCreateWorkbenchContributions/3" mark)\n${String(error)}`);
      });
  }

  // ---- Commands and quick open -------------------------------------------------------

  get quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /**
   * Runs a command from the command palette by its title, as a user would: typed, then Enter
   * once the palette has put its selection on that command. Commands that open a quick pick
   * of their own (`opensQuickPick`) leave the quick input open.
   *
   * Enter, not a click on the row: the palette updates its list once more after the first
   * filtering (its command provider answers asynchronously), and a click whose press and
   * release straddle that update reaches no row.
   */
  async runCommand(title: string, { opensQuickPick = false } = {}): Promise<void> {
    await this.page.keyboard.press('F1');
    const input = this.quickInput.locator('.quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${title}`);
    const selected = this.quickInput.locator('.monaco-list-row.focused', { hasText: title });
    await selected.waitFor({ state: 'visible' }).catch(async (error: unknown) => {
      // Say what the palette listed instead (a command registered late is not in its list).
      throw new Error(`the command palette does not select "${title}"; it lists: ${JSON.stringify(await this.paletteRows())}\n${String(error)}`);
    });
    this.trail.push(`${new Date().toISOString().slice(11, 23)} palette "${title}": rows ${JSON.stringify(await this.paletteRows())}`);
    await input.press('Enter');
    if (opensQuickPick) await this.page.locator('.quick-input-widget .quick-input-box input:not([value^=">"])').waitFor({ state: 'visible' });
    else await this.quickInput.waitFor({ state: 'hidden' });
  }

  /** The palette's rows as shown (the selected one marked with `>`), for failure reports. */
  private async paletteRows(): Promise<string[]> {
    const rows = await this.quickInput
      .locator('.monaco-list-row')
      .evaluateAll((els) => els.map((el) => `${el.classList.contains('focused') ? '> ' : ''}${(el as HTMLElement).innerText.replace(/\s+/g, ' ').trim()}`))
      .catch(() => []);
    return rows.slice(0, 8);
  }

  /** Opens a workspace file with Quick Open (Ctrl+P) and waits for its editor tab. */
  async openFile(relativePath: string): Promise<void> {
    const name = relativePath.split('/').pop() ?? relativePath;
    await this.page.keyboard.press('Control+P');
    const input = this.quickInput.locator('.quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(relativePath);
    const row = this.quickInput.locator('.monaco-list-row', { hasText: name }).first();
    await row.waitFor({ state: 'visible' });
    await this.page.keyboard.press('Enter');
    await this.quickInput.waitFor({ state: 'hidden' });
    await this.page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ state: 'visible' });
    await this.editor().locator('.view-lines').waitFor({ state: 'visible' });
    // The editor is there before the file's text is (seen under load: the click below then
    // hit the page instead of the text): wait for a line with text.
    await this.editor().locator('.view-line').filter({ hasText: /\S/ }).first().waitFor({ state: 'visible' });
    // A .coi file starts the language server; hover, completion and F12 reach it only once it
    // runs (its status bar item shows the check mark).
    if (name.endsWith('.coi')) await this.serverStatus().locator('.codicon-check').waitFor({ state: 'visible' });
    await this.focusEditor();
  }

  /** The CoI language server's status bar item. */
  serverStatus(): Locator {
    return this.page.locator('.part.statusbar [id$="coi.serverStatus"]');
  }

  // ---- The active editor ----------------------------------------------------------------

  editor(): Locator {
    return this.page.locator('.editor-group-container.active .editor-instance .monaco-editor').first();
  }

  /**
   * Clicks the start of the first line the editor shows. Not `.view-lines` at (5, 5): that
   * element holds every rendered line and moves up as the editor scrolls, so in a scrolled
   * editor its top left lies above the visible part and the click lands on the page (seen in
   * CI: the editor of a test that follows the rename and go-to-definition tests showed only its
   * last line; 30 s of "<html> intercepts pointer events"). Not the top of the editor either:
   * a CodeLens (Run) can sit there. A rendered line is always where it is shown.
   */
  async focusEditor(): Promise<void> {
    await this.editor().locator('.view-lines .view-line').first().click({ position: { x: 5, y: 5 } });
  }

  /** Moves the cursor with Go to Line (Ctrl+G), 1-based line and column. */
  async goTo(line: number, column = 1): Promise<void> {
    // Suspected, not reproduced (80 tries): Go to Line may hand the focus back to the panel
    // that had it (the Problems list), so the keys pressed next would go there. Putting the
    // focus in the editor first rules that out.
    if ((await this.page.locator('.editor-group-container.active .monaco-editor.focused').count()) === 0) await this.focusEditor();
    await this.page.keyboard.press('Control+G');
    const input = this.quickInput.locator('.quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`:${line}:${column}`);
    await this.page.keyboard.press('Enter');
    await this.quickInput.waitFor({ state: 'hidden' });
    await this.waitForCursor(line, column);
    // Go to Line moves the cursor while the line is typed; keys go to the editor only once
    // it has the focus back (else a following Ctrl+. or F2 goes to the panel that had it).
    await this.page.locator('.editor-group-container.active .monaco-editor.focused').first().waitFor({ state: 'visible' });
  }

  /** The cursor position shown in the status bar ("Ln 14, Col 8"). */
  async cursor(): Promise<{ line: number; column: number }> {
    const text = (await this.page.locator('[id="status.editor.selection"]').innerText()).trim();
    const m = /Ln (\d+), Col (\d+)/.exec(text);
    if (!m) throw new Error(`cannot read the cursor position from the status bar: "${text}"`);
    return { line: Number(m[1]), column: Number(m[2]) };
  }

  async waitForCursor(line: number, column?: number): Promise<void> {
    const want = column === undefined ? new RegExp(`Ln ${line},`) : new RegExp(`Ln ${line}, Col ${column}\\b`);
    await this.page.locator('[id="status.editor.selection"]', { hasText: want }).waitFor({ state: 'visible' });
  }

  /** The editor's visible text, line by line (the fixtures are short enough to fit). */
  async visibleText(): Promise<string> {
    const lines = await this.editor().locator('.view-lines .view-line').allInnerTexts();
    return lines.map((l) => l.replace(/\u00a0/g, ' ')).join('\n');
  }

  /**
   * What a failure report needs beyond the screenshot, as text: where the focus is, the
   * active editor's tab, cursor and visible lines, and the notifications on screen.
   */
  async describeState(): Promise<string> {
    const focus = await this.page.evaluate(() => {
      const el = document.activeElement;
      if (!el) return 'nothing';
      const panel = el.closest('[id^="workbench.parts."], .part')?.getAttribute('id') ?? '';
      return `${el.tagName.toLowerCase()}.${String(el.className).trim().split(/\s+/).join('.')}${panel ? ` in ${panel}` : ''}`;
    });
    const tab = await this.page.locator('.tabs-container .tab.active').first().innerText({ timeout: 1000 }).catch(() => '(no active tab)');
    const cursor = await this.page.locator('[id="status.editor.selection"]').innerText({ timeout: 1000 }).catch(() => '(no cursor)');
    const text = await this.visibleText().catch(() => '');
    const toasts = await this.page.locator('.notification-toast').allInnerTexts().catch(() => []);
    const panel = await this.page.evaluate(() => {
      const part = document.querySelector<HTMLElement>('.part.panel');
      if (!part || part.offsetParent === null) return 'hidden';
      const active = part.querySelector('.composite-bar .action-item.checked, .composite-bar .action-item.active');
      const editors = part.querySelectorAll('.monaco-editor').length;
      return `shown, active view "${active?.textContent?.trim() ?? active?.getAttribute('aria-label') ?? '?'}", ${editors} editor(s), ${part.offsetWidth}x${part.offsetHeight}`;
    }).catch((e: unknown) => `(unreadable: ${String(e)})`);
    const picker = await this.quickInput.isVisible()
      ? `open: ${JSON.stringify(await this.quickInput.locator('.monaco-list-row').allInnerTexts().catch(() => []))}`
      : 'closed';
    return [
      `    panel: ${panel}`,
      `    quick input: ${picker}`,
      ...this.trail.map((t) => `    did: ${t}`),
      `    focus: ${focus}`,
      `    editor: ${tab.replace(/\s+/g, ' ').trim()} at ${cursor.trim()}`,
      ...(toasts.length > 0 ? [`    notifications: ${toasts.map((t) => t.replace(/\s+/g, ' ')).join(' | ')}`] : []),
      ...this.consoleLines.map((l) => `    console: ${l}`),
      '    visible lines:',
      ...text.split('\n').map((l) => `    | ${l}`),
    ].join('\n');
  }

  /**
   * Selects the whole line the cursor is on and types a replacement for it, then waits until
   * the editor shows it. Keys that went elsewhere (the focus was not in the editor: seen once
   * in CI, cause unknown) are said in the output and typed once more at the same line; the
   * test goes on only with the text in the editor.
   */
  async replaceCurrentLine(text: string): Promise<void> {
    const { line } = await this.cursor();
    for (let attempt = 1; ; attempt++) {
      await this.page.keyboard.press('Home');
      await this.page.keyboard.press('Home'); // twice: past the indentation to column 1
      await this.page.keyboard.press('Shift+End');
      await this.page.keyboard.type(text);
      if (await this.showsLine(text, attempt === 1 ? 5_000 : STEP_TIMEOUT_MS)) return;
      if (attempt === 2) throw new Error(`typed twice at line ${line}, the editor never showed ${JSON.stringify(text)}`);
      console.log(`  (typing at line ${line} did not reach the editor; typing again)\n${await this.describeState()}`);
      await this.goTo(line, 1);
    }
  }

  /** Whether an editor line shows exactly `text`, waiting up to `timeoutMs`. */
  private showsLine(text: string, timeoutMs: number): Promise<boolean> {
    return this.page
      .waitForFunction(
        (want) =>
          Array.from(document.querySelectorAll('.editor-group-container.active .monaco-editor .view-line')).some((l) => l.textContent?.replace(/\u00a0/g, ' ') === want),
        text,
        { timeout: timeoutMs, polling: 100 },
      )
      .then(
        () => true,
        () => false,
      );
  }

  /** Reverts the active editor's unsaved changes and closes it (no save dialog). */
  async revertAndClose(): Promise<void> {
    await this.runCommand('View: Revert and Close Editor');
  }

  // ---- Status bar --------------------------------------------------------------------------

  statusItem(id: string): Locator {
    return this.page.locator(`.part.statusbar [id="${id}"]`);
  }

  /** The language mode shown in the status bar for the active editor. */
  async languageMode(): Promise<string> {
    return (await this.statusItem('status.editor.mode').innerText()).trim();
  }

  // ---- Problems panel -------------------------------------------------------------------

  /** Opens the Problems panel (Ctrl+Shift+M). */
  async showProblems(): Promise<void> {
    await this.runCommand('View: Focus Problems');
    await this.page.locator('.markers-panel').waitFor({ state: 'visible' });
  }

  /** The problems listed in the Problems panel, read from each row's accessible label. */
  async problems(): Promise<Problem[]> {
    return problemsOf(await this.rawProblemLabels());
  }

  /** Waits until the Problems panel shows problems satisfying `predicate`; returns them. */
  async waitForProblems(predicate: (problems: Problem[]) => boolean, what: string): Promise<Problem[]> {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    let last: Problem[] = [];
    while (Date.now() < deadline) {
      // One read serves both the check and the wait: with two reads, a change landing between
      // them was taken as the starting point of the wait, which then never saw a change, and
      // the step timed out showing the older list.
      const labels = await this.rawProblemLabels();
      last = problemsOf(labels);
      if (predicate(last)) return last;
      // Wait for the panel's list to change rather than polling blindly.
      await this.page
        .waitForFunction(
          (before) => {
            const rows = Array.from(document.querySelectorAll('.markers-panel .monaco-list-row'));
            return rows.map((r) => r.getAttribute('aria-label') ?? '').join('\n') !== before;
          },
          labels.join('\n'),
          { timeout: Math.max(1, deadline - Date.now()), polling: 100 },
        )
        .catch(() => undefined);
    }
    throw new Error(`timed out waiting for the Problems panel to show ${what}; it shows:\n${JSON.stringify(last, null, 2)}`);
  }

  private rawProblemLabels(): Promise<string[]> {
    return this.page.locator('.markers-panel .monaco-list-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label') ?? ''));
  }

  // ---- Editor widgets -------------------------------------------------------------------

  /** The visible hover widget (all its parts) that contains `text`. */
  hoverWidget(text: string | RegExp): Locator {
    return this.page.locator('.monaco-hover:not(.hidden)').filter({ hasText: text }).first();
  }

  suggestRows(): Locator {
    return this.page.locator('.editor-widget.suggest-widget.visible .monaco-list-row');
  }
}

/** The marker rows among the Problems panel's row labels. */
function problemsOf(labels: readonly string[]): Problem[] {
  return labels.map(parseProblemLabel).filter((p): p is Problem => p !== undefined);
}

/**
 * Reads a Problems row's aria-label. VS Code writes for a marker:
 *   "Error: MESSAGE at line 14 and character 8 in broken.coi" (wording varies by version),
 * and for a file row: "broken.coi ... 2 problems". Only marker rows are returned.
 */
export function parseProblemLabel(label: string): Problem | undefined {
  const m = /^(Error|Warning|Info|Information)[:\s]+([\s\S]*?)\s+at line (\d+) and character (\d+)(?:\.|\s+in\s+(.+?)\.?)?(?:\s|$)/i.exec(label);
  if (!m) return undefined;
  const sev = m[1]!.toLowerCase();
  return {
    severity: sev === 'error' ? 'error' : sev === 'warning' ? 'warning' : 'info',
    message: m[2]!.trim(),
    line: Number(m[3]),
    column: Number(m[4]),
    file: m[5]?.trim() ?? '',
  };
}
