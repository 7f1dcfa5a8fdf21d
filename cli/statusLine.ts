/**
 * A command's progress on standard error, one status line: on a terminal it is redrawn in place
 * (`REDRAW_LINE`) and ended with a line feed when it is done or when something else is printed;
 * piped or redirected (a log, CI), it is written as plain lines, as few as the caller's rule lets
 * through, so a long run's log stays short and still shows it is alive.
 */
import { REDRAW_LINE, type CliIO } from './io';

/** The rule for the lines written when standard error is not a terminal. */
export interface ProgressLogRule {
  /** Write a line at least this often (when `show` is called), even within one step. */
  readonly everyMs?: number;
  readonly now?: () => number;
}

/** What one `show` is, for the rule. */
export interface ProgressShown {
  /**
   * How far it is, coarsely (a tenth done, a stage): off a terminal a line is written when the
   * step differs from the last line's (of the same `channel`), or when `everyMs` have passed.
   */
  readonly step?: string | number;
  /** Steps are compared within a channel (one per download, say); one channel by default. */
  readonly channel?: string;
  /** Written off a terminal whatever the step (a start, the end). */
  readonly force?: boolean;
  /** On a terminal, the last state: the line is ended with a line feed. */
  readonly final?: boolean;
}

export interface StatusLine {
  /** Shows `text` (one line, no line feed) as the progress now. */
  show(text: string, shown?: ProgressShown): void;
  /** Ends a line left open on a terminal, so what follows starts on a line of its own. */
  end(): void;
  /** Writes `text` (whole lines) below the progress line, ending it first. */
  print(text: string): void;
}

/**
 * The `io`s (one per command run: runCli's) whose standard error, a terminal, has its cursor at
 * the end of an unfinished progress line. One state for every writer of that `io`: its status
 * lines (a download's, an evaluation's), the retry notices written over them, and, through
 * `endingProgressLines`, every other message; so a line is ended once, and never twice.
 */
const openProgressLines = new WeakSet<CliIO>();

/** Ends the progress line left open on the terminal, if there is one, so what follows starts on a line of its own. */
export function endProgressLine(io: CliIO): void {
  if (openProgressLines.delete(io)) io.stderr('\n');
}

/**
 * `io` whose standard error, on a terminal, ends an open progress line before any other text
 * (an error, a cancellation, a note): runCli's `io`, the one every command writes through.
 * A text that begins with a line feed ends the line itself; one that begins with `REDRAW_LINE`
 * redraws it. Piped, `io` as it is.
 */
export function endingProgressLines(io: CliIO): CliIO {
  if (io.stderrIsTTY !== true) return io;
  const write = io.stderr;
  const ending: CliIO = {
    ...io,
    stderr: (text) => {
      if (text !== '' && !text.startsWith(REDRAW_LINE) && openProgressLines.delete(ending) && !text.startsWith('\n')) write('\n');
      write(text);
    },
  };
  return ending;
}

export function statusLine(io: CliIO, rule: ProgressLogRule = {}): StatusLine {
  const now = rule.now ?? Date.now;
  const lastStep = new Map<string, string | number | undefined>();
  let lastLineAt = now();
  const end = (): void => endProgressLine(io);
  return {
    show: (text, { step, channel = '', force = false, final = false } = {}) => {
      if (io.stderrIsTTY === true) {
        io.stderr(`${REDRAW_LINE}${text}${final ? '\n' : ''}`);
        if (final) openProgressLines.delete(io);
        else openProgressLines.add(io);
        return;
      }
      const due = force || !lastStep.has(channel) || lastStep.get(channel) !== step || (rule.everyMs !== undefined && now() - lastLineAt >= rule.everyMs);
      if (!due) return;
      lastStep.set(channel, step);
      lastLineAt = now();
      io.stderr(`${text}\n`);
    },
    end,
    print: (text) => {
      end();
      io.stderr(text);
    },
  };
}

/**
 * Writes `text` (whole lines) over whatever progress line is on the terminal (it is cleared,
 * and redraws itself below at its next step); piped, the text as it is. For a message from
 * elsewhere than the progress line's owner (a retry of a remote model).
 */
export function writeOverProgressLine(io: CliIO, text: string): void {
  // The line it clears is closed: what follows (the progress redrawn, or its end) takes the next line.
  openProgressLines.delete(io);
  io.stderr(`${io.stderrIsTTY === true ? REDRAW_LINE : ''}${text}`);
}
