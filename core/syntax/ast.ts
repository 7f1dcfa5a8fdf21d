/**
 * The syntax tree of a `.coi` file.
 *
 * Every node carries a `span`: UTF-16 offsets into the document text (the same
 * units LSP uses), `start` inclusive and `end` exclusive. Convert to line/column
 * with `LineMap` (core/syntax/lineMap.ts). The tree is produced by an
 * error-tolerant parser: optional fields are absent when the source is
 * incomplete, and `missing`/`error` nodes mark what could not be parsed.
 *
 * The language reference is docs/format.md.
 */

export interface Span {
  readonly start: number;
  readonly end: number;
}

/** An identifier as written in the source (step ids, input names, profile names, keys). */
export interface Identifier {
  readonly kind: 'identifier';
  readonly name: string;
  readonly span: Span;
}

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

/**
 * A string literal: `"escaped\n"`, `'raw \d+'` or a `"""` text block.
 * `value` is the decoded text (escapes resolved; for text blocks, the common
 * indentation and the first/last blank line removed).
 */
export interface StringValue {
  readonly kind: 'string';
  readonly value: string;
  readonly style: 'double' | 'single' | 'block';
  readonly span: Span;
}

export interface NumberValue {
  readonly kind: 'number';
  readonly value: number;
  readonly raw: string;
  readonly span: Span;
}

export interface BooleanValue {
  readonly kind: 'boolean';
  readonly value: boolean;
  readonly span: Span;
}

/** A bare word used as a value (e.g. `fr`, `auto`, `python`, a label written without quotes). */
export interface WordValue {
  readonly kind: 'word';
  readonly value: string;
  readonly span: Span;
}

/** `[a, "b c", 3]` */
export interface ListValue {
  readonly kind: 'list';
  readonly items: readonly Value[];
  readonly span: Span;
}

export type Value = StringValue | NumberValue | BooleanValue | WordValue | ListValue;

/** `key=value` option after a contract kind or an expectation. */
export interface OptionNode {
  readonly kind: 'option';
  readonly key: Identifier;
  /** Absent when the source has `key=` with nothing after it. */
  readonly value?: Value;
  readonly span: Span;
}

// ---------------------------------------------------------------------------
// Output contracts (`output text lang=fr max_words=60`, `input x: number min=0`)
// ---------------------------------------------------------------------------

export const CONTRACT_KINDS = ['text', 'label', 'list', 'json', 'number', 'boolean', 'code'] as const;
export type ContractKind = (typeof CONTRACT_KINDS)[number];

export interface ContractNode {
  readonly kind: 'contract';
  /** The contract kind word as written; `contractKind` is set only when it is a known kind. */
  readonly kindName: Identifier;
  readonly contractKind?: ContractKind;
  /** For `label [a, b, c]`: the label set written right after the kind. */
  readonly labels?: ListValue;
  readonly options: readonly OptionNode[];
  readonly span: Span;
}

// ---------------------------------------------------------------------------
// Top-level declarations
// ---------------------------------------------------------------------------

/** `chain summarize_then_translate` or `chain "Summarize, then translate"` */
export interface ChainDecl {
  readonly kind: 'chain';
  readonly keyword: Span;
  readonly name?: Identifier | StringValue;
  readonly span: Span;
}

/** `description """..."""` (top level). */
export interface DescriptionDecl {
  readonly kind: 'description';
  readonly keyword: Span;
  readonly text?: StringValue;
  readonly span: Span;
}

/**
 * A generic `key value...` line inside a block (model, step or test).
 * Well-known keys get their own node types below; every other line of a
 * `model` block is a property.
 */
export interface PropertyNode {
  readonly kind: 'property';
  readonly key: Identifier;
  readonly values: readonly Value[];
  readonly span: Span;
}

/** `model NAME { provider local  path "hf:..."  temperature 0 ... }` */
export interface ModelDecl {
  readonly kind: 'model';
  readonly keyword: Span;
  readonly name?: Identifier;
  readonly properties: readonly PropertyNode[];
  /** The `{ ... }` block, when present. */
  readonly body?: Span;
  readonly span: Span;
}

/** `input article: text lang=en` */
export interface InputDecl {
  readonly kind: 'input';
  readonly keyword: Span;
  readonly name?: Identifier;
  readonly contract?: ContractNode;
  readonly span: Span;
}

/** `instruction """..."""` inside a step. */
export interface InstructionNode {
  readonly kind: 'instruction';
  readonly keyword: Span;
  readonly text?: StringValue;
  readonly span: Span;
}

/** `from article, summary` inside a step: the explicit input binding. */
export interface FromNode {
  readonly kind: 'from';
  readonly keyword: Span;
  readonly refs: readonly Identifier[];
  readonly span: Span;
}

/** `output <contract>` inside a step. */
export interface OutputNode {
  readonly kind: 'output';
  readonly keyword: Span;
  readonly contract?: ContractNode;
  readonly span: Span;
}

/** `step ID { instruction ...  from ...  output ...  <other properties> }` */
export interface StepDecl {
  readonly kind: 'step';
  readonly keyword: Span;
  readonly id?: Identifier;
  readonly instruction?: InstructionNode;
  readonly from?: FromNode;
  readonly output?: OutputNode;
  /**
   * Other lines: `model PROFILE`, `task CATEGORY`, `needs KIND`, sampling overrides
   * (`temperature 0.7`, `max_tokens 64`, ...). Unknown keys are reported by the checker.
   */
  readonly properties: readonly PropertyNode[];
  /** Members in source order (for the formatter and outline). */
  readonly members: readonly StepMember[];
  readonly body?: Span;
  readonly span: Span;
}
export type StepMember = InstructionNode | FromNode | OutputNode | PropertyNode;

/** `given article = """..."""` inside a test. */
export interface GivenNode {
  readonly kind: 'given';
  readonly keyword: Span;
  readonly name?: Identifier;
  readonly value?: Value;
  readonly span: Span;
}

export const MATCHERS = ['equals', 'contains', 'matches', 'label', 'one_of', 'valid_json', 'rouge_l', 'judge'] as const;
export type MatcherKind = (typeof MATCHERS)[number];

/**
 * `expect TARGET [not] MATCHER [>= THRESHOLD] [VALUE] [key=value...]`
 *   expect summary contains "rain"
 *   expect summary not contains "As an AI"
 *   expect output equals "positive"
 *   expect code matches '^def \w+'
 *   expect sentiment label positive
 *   expect sentiment one_of [positive, neutral]
 *   expect person valid_json
 *   expect french rouge_l >= 0.4 """reference text"""
 *   expect summary judge """Mentions the date and the place."""
 * TARGET is a step id or the word `output` (the chain's final output).
 */
export interface ExpectNode {
  readonly kind: 'expect';
  readonly keyword: Span;
  readonly target?: Identifier;
  readonly negated?: Span;
  readonly matcherName?: Identifier;
  /** Set only when the matcher word is a known matcher. */
  readonly matcher?: MatcherKind;
  /** The `>=` as written (or a lone `>`, reported as COI101), with or without a readable number after it. */
  readonly comparison?: Span;
  /** `>= 0.4` for rouge_l (a fraction in [0, 1]). */
  readonly threshold?: NumberValue;
  readonly value?: Value;
  /**
   * Where the value (or the threshold) should be, the first token the parser could not read as
   * one (`equals .5`, `matches ^'x'`, `contains = "x"`): reported as a syntax error, so the
   * checker does not report the value missing as well.
   */
  readonly unread?: Span;
  readonly options: readonly OptionNode[];
  readonly span: Span;
}

/** `test "name" { given ...  expect ... }` */
export interface TestDecl {
  readonly kind: 'test';
  readonly keyword: Span;
  readonly name?: StringValue | Identifier;
  readonly givens: readonly GivenNode[];
  readonly expects: readonly ExpectNode[];
  /** Other lines (e.g. `model PROFILE`); unknown keys are reported by the checker. */
  readonly properties: readonly PropertyNode[];
  readonly members: readonly TestMember[];
  readonly body?: Span;
  readonly span: Span;
}
export type TestMember = GivenNode | ExpectNode | PropertyNode;

export type Declaration = ChainDecl | DescriptionDecl | ModelDecl | InputDecl | StepDecl | TestDecl;

/** A comment, `# ...` to the end of the line (kept for the formatter). */
export interface Comment {
  readonly text: string;
  readonly span: Span;
}

export interface CoiFile {
  readonly kind: 'file';
  readonly declarations: readonly Declaration[];
  readonly comments: readonly Comment[];
  readonly span: Span;
  /**
   * The text the parser could not read, in source order: what it skipped after a syntax
   * error (the rest of a line, a block it could not place) and the lines an unterminated
   * text block swallowed. Names written there are in no declaration or reference.
   */
  readonly skipped: readonly Span[];
}

// ---------------------------------------------------------------------------
// Diagnostics (shared by parser, checker and composability analysis)
// ---------------------------------------------------------------------------

export type Severity = 'error' | 'warning' | 'info' | 'hint';

export interface RelatedInfo {
  readonly span: Span;
  readonly message: string;
}

export interface Diagnostic {
  /** Stable code, documented in docs/format.md (e.g. `COI101`). */
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly span: Span;
  readonly related?: readonly RelatedInfo[];
  /** Marks code that is unused (rendered faded by editors). */
  readonly unnecessary?: boolean;
  /** Machine-readable details for quick fixes (e.g. `{ suggestion: 'summary' }`). */
  readonly data?: Readonly<Record<string, unknown>>;
}
