/**
 * Diagnostic codes of the checker (COI2xx structure, COI3xx composability,
 * COI4xx tests, COI5xx model profiles). Syntax codes (COI1xx) live with the
 * lexer. Every code is documented in docs/format.md; a test checks that the
 * table there and this registry agree, and that a fixture covers each code.
 */
import type { Diagnostic, RelatedInfo, Severity, Span } from '../syntax/ast';

export interface CodeInfo {
  readonly severity: Severity;
  readonly title: string;
}

export const CHECK_CODES = {
  // --- structure ---
  COI201: { severity: 'error', title: 'missing chain declaration' },
  COI202: { severity: 'error', title: 'duplicate chain or description declaration' },
  COI203: { severity: 'error', title: 'duplicate step or input id' },
  COI204: { severity: 'error', title: 'reserved id' },
  COI205: { severity: 'error', title: 'unknown reference in from' },
  COI206: { severity: 'error', title: 'reference to a later step or to itself' },
  COI207: { severity: 'warning', title: 'unused chain input' },
  COI208: { severity: 'warning', title: 'unused step' },
  COI209: { severity: 'error', title: 'step without instruction' },
  COI210: { severity: 'info', title: 'step without output contract' },
  COI211: { severity: 'error', title: 'unknown contract kind' },
  COI212: { severity: 'error', title: 'unknown contract option' },
  COI213: { severity: 'error', title: 'invalid contract option value' },
  COI214: { severity: 'error', title: 'empty or missing label set' },
  COI215: { severity: 'warning', title: 'duplicate label or option' },
  COI216: { severity: 'error', title: 'inline JSON schema is not JSON' },
  COI217: { severity: 'error', title: 'invalid JSON schema' },
  COI218: { severity: 'error', title: 'schema file not found' },
  COI219: { severity: 'error', title: 'unknown step property' },
  COI220: { severity: 'warning', title: 'duplicate step member' },
  COI221: { severity: 'error', title: 'invalid step property value' },
  COI222: { severity: 'warning', title: 'chain without steps' },
  COI223: { severity: 'warning', title: 'reference listed twice in from' },
  COI224: { severity: 'info', title: 'schema file of an untitled document not checked yet' },
  // --- composability ---
  COI301: { severity: 'error', title: 'label, yes/no or number fed to a step that needs a passage' },
  COI302: { severity: 'warning', title: 'language mismatch' },
  COI303: { severity: 'warning', title: 'list fed where one item is expected' },
  COI304: { severity: 'warning', title: 'JSON fed to a free-text step' },
  COI305: { severity: 'warning', title: 'classification-like step is not last' },
  COI306: { severity: 'warning', title: 'free text fed to a step that needs JSON or code' },
  // --- tests ---
  COI401: { severity: 'error', title: 'duplicate test name' },
  COI402: { severity: 'error', title: 'given for an unknown input' },
  COI403: { severity: 'error', title: 'missing given for a chain input' },
  COI404: { severity: 'warning', title: 'input given twice' },
  COI405: { severity: 'error', title: 'unknown expectation target' },
  COI406: { severity: 'error', title: 'unknown matcher' },
  COI407: { severity: 'error', title: 'matcher value missing or of the wrong type' },
  COI408: { severity: 'error', title: 'expectation cannot match the contract' },
  COI409: { severity: 'error', title: 'rouge_l threshold outside [0, 1]' },
  COI410: { severity: 'error', title: 'invalid regular expression' },
  COI411: { severity: 'error', title: 'unknown test property or expectation option' },
  COI412: { severity: 'error', title: 'given value does not fit the input contract' },
  COI413: { severity: 'info', title: 'test without expectations' },
  COI414: { severity: 'warning', title: 'expectation always holds' },
  // --- model profiles ---
  COI501: { severity: 'error', title: 'duplicate model profile' },
  COI502: { severity: 'error', title: 'missing or unknown provider' },
  COI503: { severity: 'error', title: 'missing required profile key' },
  COI504: { severity: 'error', title: 'unknown profile key' },
  COI505: { severity: 'error', title: 'invalid profile or sampling value' },
  COI506: { severity: 'error', title: 'API key written in the file' },
  COI507: { severity: 'error', title: 'unknown model profile' },
  COI508: { severity: 'warning', title: 'key not used by this provider' },
  COI509: { severity: 'warning', title: 'duplicate profile key' },
  COI510: { severity: 'warning', title: "a provider's key sent to another host" },
  COI511: { severity: 'warning', title: 'API key sent over plain http' },
} as const satisfies Record<string, CodeInfo>;

export type CheckCode = keyof typeof CHECK_CODES;

/**
 * What a checker diagnostic's `data` holds for its quick fix
 * (core/language/quickFixes.ts reads them through `fixData`).
 */
export interface DiagnosticData {
  /** Any code: the closest valid word; the fix replaces the span with it. */
  readonly suggestion?: string;
  /** Any code: the closed set of valid values; each is offered when there are few. */
  readonly choices?: readonly string[];
  /** COI201: the declaration to add at the top. COI214: present when a label set can be added. */
  readonly insert?: string;
  /** COI207: the unused input's name. */
  readonly input?: string;
  /** COI403: the chain inputs a test gives no value for. COI503: the profile keys missing. */
  readonly missing?: readonly string[];
  /** COI403: for each input of `missing`, a value its contract accepts, as `.coi` text (json: shaped by its schema). */
  readonly values?: readonly string[];
  /** COI408: the step's label set, which the fix extends. */
  readonly labels?: readonly string[];
  /** COI506: the key to write instead of the API key. */
  readonly replaceWith?: string;
}

/**
 * A diagnostic's data as the quick fixes may use it. It comes back from the
 * editor with the code-action request, so each key is checked, not trusted.
 */
export function fixData(d: Diagnostic): DiagnosticData {
  const data = d.data ?? {};
  const text = (key: keyof DiagnosticData): string | undefined => (typeof data[key] === 'string' ? data[key] : undefined);
  const texts = (key: keyof DiagnosticData): readonly string[] | undefined => {
    const value = data[key];
    return Array.isArray(value) ? value.filter((x): x is string => typeof x === 'string') : undefined;
  };
  const fields: Record<keyof DiagnosticData, string | readonly string[] | undefined> = {
    suggestion: text('suggestion'),
    choices: texts('choices'),
    insert: text('insert'),
    input: text('input'),
    missing: texts('missing'),
    values: texts('values'),
    labels: texts('labels'),
    replaceWith: text('replaceWith'),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as DiagnosticData;
}

export interface DiagnosticExtras {
  readonly related?: readonly RelatedInfo[];
  readonly unnecessary?: boolean;
  readonly data?: DiagnosticData;
}

/** A diagnostic with the code's registered severity. */
export function diagnostic(code: CheckCode, span: Span, message: string, extras: DiagnosticExtras = {}): Diagnostic {
  return {
    code,
    severity: CHECK_CODES[code].severity,
    message,
    span,
    ...(extras.related ? { related: extras.related } : {}),
    ...(extras.unnecessary ? { unnecessary: true } : {}),
    ...(extras.data ? { data: { ...extras.data } } : {}),
  };
}

/** The docs/format.md heading of each code family (COI1xx … COI5xx), as a Markdown anchor. */
const FORMAT_SECTIONS: Readonly<Record<string, string>> = {
  '0': 'diagnostics-how-many', // COI000, the note on the problems left out
  '1': 'diagnostics-syntax-coi1xx',
  '2': 'diagnostics-structure-coi2xx',
  '3': 'diagnostics-composability-coi3xx',
  '4': 'diagnostics-tests-coi4xx',
  '5': 'diagnostics-model-profiles-coi5xx',
};

/** The anchor of the docs/format.md section that documents a diagnostic code (a link from the editor). */
export function formatSectionOf(code: string): string | undefined {
  const family = /^COI(\d)\d\d$/.exec(code)?.[1];
  return family === undefined ? undefined : FORMAT_SECTIONS[family];
}
