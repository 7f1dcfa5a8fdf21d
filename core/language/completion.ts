/**
 * Completion candidates at an offset: what may be written there, given the block the
 * cursor is in and the words already on its line. Works on the syntax tree of the last
 * parse plus the text of the current line, so it keeps working while the line is half typed.
 */
import { FINAL_OUTPUT } from '../chain/tests';
import { profileKeysFor } from '../chain/profiles';
import { CONTRACT_KINDS, MATCHERS, type CoiFile, type ContractKind, type Declaration, type Span, type StepDecl, type Value } from '../syntax/ast';
import { isIdentifier, lex, type Token } from '../syntax/lexer';
import { allSteps, pathAt, textOf } from '../syntax/visit';
import {
  COMMON_LANGUAGES,
  CONTRACT_DOCS,
  CONTRACT_OPTIONS,
  MATCHER_DOCS,
  MODEL_PROPERTY_DOCS,
  MODEL_PROPERTY_VALUES,
  NEEDS_KINDS,
  OPTION_VALUES,
  SAMPLING_DOCS,
  STEP_MEMBER_DOCS,
  TASK_CATEGORIES,
  TEST_MEMBER_DOCS,
  TOP_LEVEL_DOCS,
} from './vocabulary';
import { fenced } from '../records/markdown';

export type CandidateKind = 'keyword' | 'step' | 'input' | 'profile' | 'contract' | 'option' | 'matcher' | 'label' | 'value' | 'property' | 'snippet';

export interface CompletionCandidate {
  readonly label: string;
  readonly kind: CandidateKind;
  /** Plain text. */
  readonly detail?: string;
  /** Markdown: text from the file in it is fenced or escaped (`core/records/markdown`). */
  readonly documentation?: string;
  /** Text to insert instead of the label; a snippet (`$1`, `${1:x}`) when `snippet` is true. */
  readonly insertText?: string;
  readonly snippet?: boolean;
  /** For a snippet that stands for a keyword: the plain keyword, offered instead to clients without snippets. */
  readonly plain?: CompletionCandidate;
  /** Orders candidates (lower first); the label otherwise. */
  readonly sortText?: string;
}

export interface CompletionResult {
  readonly candidates: readonly CompletionCandidate[];
  /** The partial word the candidates replace (empty at the cursor when nothing is typed). */
  readonly replace: Span;
}

export interface CompletionVocabulary {
  readonly taskCategories?: readonly string[];
  readonly needsKinds?: readonly string[];
}

type Block = { readonly kind: 'top' } | { readonly kind: 'model' | 'step' | 'test'; readonly decl: Declaration };

export function completionsAt(file: CoiFile, text: string, offset: number, vocabulary: CompletionVocabulary = {}): CompletionResult {
  const lineStart = lineStartOf(text, offset);
  const prefix = text.slice(lineStart, offset);
  const none: CompletionResult = { candidates: [], replace: { start: offset, end: offset } };
  if (insideStringOrComment(file, offset)) return none;
  const tokens = lex(prefix).tokens.toArray().filter((t) => t.kind !== 'newline' && t.kind !== 'eof');
  const last = tokens[tokens.length - 1];
  if (last?.kind === 'string' && last.terminated === false) return none;
  if (last?.kind === 'error') return none;
  let typed: Token | undefined;
  if (last && last.kind === 'identifier' && last.end === prefix.length) typed = last;
  const before = typed ? tokens.slice(0, -1) : tokens;
  // The rest of the word after the cursor is replaced too (completing in the middle of a word).
  let wordEnd = offset;
  while (wordEnd < text.length && /[A-Za-z0-9_-]/.test(text[wordEnd] ?? '')) wordEnd++;
  const replace = { start: typed ? lineStart + typed.start : offset, end: wordEnd };
  const context = new LineContext(file, blockAt(file, text, offset), before, offset, vocabulary);
  return { candidates: context.candidates(), replace };
}

class LineContext {
  private readonly words: string[];
  constructor(
    private readonly file: CoiFile,
    private readonly block: Block,
    private readonly tokens: readonly Token[],
    private readonly offset: number,
    private readonly vocabulary: CompletionVocabulary,
  ) {
    this.words = tokens.map((t) => (t.kind === 'identifier' ? t.text : t.kind === 'string' ? '"' : t.kind));
  }

  candidates(): CompletionCandidate[] {
    const head = this.words[0];
    // `step x { instruction` on one line: complete as a member.
    const brace = this.words.lastIndexOf('{');
    if (brace >= 0 && this.block.kind !== 'top') return new LineContext(this.file, this.block, this.tokens.slice(brace + 1), this.offset, this.vocabulary).candidates();
    switch (this.block.kind) {
      case 'top':
        if (head === undefined) return topLevelKeywords(this.file);
        if (head === 'input' && this.words.includes(':')) return this.contract(this.tokens.slice(this.words.indexOf(':') + 1));
        return [];
      case 'step':
        return this.stepLine(this.block.decl as StepDecl);
      case 'model':
        return this.modelLine();
      case 'test':
        return this.testLine();
    }
  }

  private stepLine(step: StepDecl): CompletionCandidate[] {
    const head = this.words[0];
    const rest = this.tokens.slice(1);
    if (head === undefined) {
      const present = new Set(step.members.map((m) => (m.kind === 'property' ? m.key.name : m.kind)));
      return [
        ...Object.entries(STEP_MEMBER_DOCS)
          .filter(([k]) => !present.has(k))
          .map(([k, doc]) => keyword(k, doc, '0')),
        ...Object.entries(SAMPLING_DOCS)
          .filter(([k]) => !present.has(k))
          .map(([k, doc]) => ({ label: k, kind: 'property' as const, documentation: doc, sortText: `1${k}` })),
      ];
    }
    switch (head) {
      case 'from': {
        const listed = new Set(rest.map((t) => t.text));
        const expectingName = rest.length === 0 || rest[rest.length - 1]?.kind === ',';
        if (!expectingName) return [];
        return this.sourcesBefore(step).filter((c) => !listed.has(c.label));
      }
      case 'output':
        return this.contract(rest);
      case 'model':
        return rest.length === 0 ? this.profiles() : [];
      case 'task':
        return rest.length === 0 ? (this.vocabulary.taskCategories ?? TASK_CATEGORIES).map((t) => value(t, 'task category')) : [];
      case 'needs':
        return rest.length === 0 ? (this.vocabulary.needsKinds ?? NEEDS_KINDS).map((t) => value(t, 'input kind')) : [];
      default:
        return [];
    }
  }

  private modelLine(): CompletionCandidate[] {
    const head = this.words[0];
    if (head === undefined) {
      const properties = this.block.kind === 'model' && this.block.decl.kind === 'model' ? this.block.decl.properties : [];
      const present = new Set(properties.map((p) => p.key.name));
      // Keys of the other provider would only be warned about (COI508): not offered.
      const provider = properties.find((p) => p.key.name === 'provider')?.values[0];
      const valid = new Set(profileKeysFor(textOf(provider)));
      return Object.entries(MODEL_PROPERTY_DOCS)
        .filter(([k]) => !present.has(k) && valid.has(k))
        .map(([k, doc]) => ({ label: k, kind: 'property' as const, documentation: doc }));
    }
    const values = MODEL_PROPERTY_VALUES[head];
    return values && this.words.length === 1 ? values.map((v) => value(v, head)) : [];
  }

  private testLine(): CompletionCandidate[] {
    const head = this.words[0];
    const rest = this.words.slice(1);
    if (head === undefined) return withSnippets(Object.entries(TEST_MEMBER_DOCS).map(([k, doc]) => keyword(k, doc, '0')), this.testSnippets());
    if (head === 'given') {
      if (rest.length === 2 && rest[1] === '=') return this.inputValues(rest[0] ?? '');
      if (rest.length > 0) return [];
      // An input another line of this test already gives would be given twice (COI404).
      const givens = this.block.kind === 'test' && this.block.decl.kind === 'test' ? this.block.decl.givens : [];
      const given = new Set(givens.filter((g) => !(g.span.start <= this.offset && this.offset <= g.span.end)).map((g) => g.name?.name));
      return this.inputs().filter((c) => !given.has(c.label));
    }
    if (head === 'model') return rest.length === 0 ? this.profiles() : [];
    if (head !== 'expect') return [];
    if (rest.length === 0) return [...this.steps(Infinity), { label: FINAL_OUTPUT, kind: 'keyword', detail: "the chain's final output", sortText: '0' }];
    const target = rest[0] ?? '';
    const afterTarget = rest.slice(1);
    const matcherWords = afterTarget[0] === 'not' ? afterTarget.slice(1) : afterTarget;
    if (matcherWords.length === 0) {
      const matchers = MATCHERS.map((m) => ({ label: m, kind: 'matcher' as const, documentation: MATCHER_DOCS[m] }));
      return afterTarget.length === 0 ? [{ label: 'not', kind: 'keyword', documentation: 'Negates the matcher.', sortText: 'z' }, ...matchers] : matchers;
    }
    const matcher = matcherWords[0];
    const args = matcherWords.slice(1);
    if (matcher === 'label' && args.length === 0) return this.labelsOf(target);
    if (matcher === 'one_of' && args.length > 0 && (args[args.length - 1] === '[' || args[args.length - 1] === ',') && !args.includes(']')) {
      const listed = new Set(args);
      return this.labelsOf(target).filter((c) => !listed.has(c.label));
    }
    if (matcher === 'one_of' && args.length === 0) {
      const labels = this.labelsOf(target).map((c) => c.label);
      return labels.length > 0 ? [{ label: `[${labels.join(', ')}]`, kind: 'label', detail: 'all labels of the target' }] : [];
    }
    return [];
  }

  /** After `output` / `input x:`: a contract kind, then its options, then option values. */
  private contract(tokens: readonly Token[]): CompletionCandidate[] {
    const kindToken = tokens[0];
    if (!kindToken) {
      return CONTRACT_KINDS.map((k) => {
        const plain = { label: k, kind: 'contract' as const, documentation: CONTRACT_DOCS[k] };
        // A client without snippets gets the bare `label` (its set is then written by hand).
        return k === 'label' ? { ...plain, insertText: 'label [${1:positive}, ${2:negative}]', snippet: true, plain } : plain;
      });
    }
    const kind = (CONTRACT_KINDS as readonly string[]).includes(kindToken.text) ? (kindToken.text as ContractKind) : undefined;
    if (!kind) return [];
    const words = tokens.map((t) => t.text || t.kind);
    if (words.includes('[') && !words.includes(']')) return [];
    const lastToken = tokens[tokens.length - 1];
    if (lastToken?.kind === '=') {
      const key = tokens[tokens.length - 2]?.text ?? '';
      if (key === 'lang' && kind === 'text') return COMMON_LANGUAGES.map((l) => value(l, 'language'));
      return (OPTION_VALUES[key] ?? []).map((v) => value(v, key));
    }
    const used = new Set(tokens.filter((t, i) => tokens[i + 1]?.kind === '=').map((t) => t.text));
    return CONTRACT_OPTIONS[kind]
      .filter((o) => !used.has(o))
      .map((o) => ({ label: `${o}=`, kind: 'option' as const, detail: `${kind} option`, insertText: `${o}=`, sortText: o }));
  }

  /** Chain inputs and steps declared before `step` (what `from` may name). */
  private sourcesBefore(step: StepDecl): CompletionCandidate[] {
    return [...this.inputs(), ...this.steps(step.span.start)];
  }

  private steps(before: number): CompletionCandidate[] {
    return this.file.declarations
      .filter((d): d is StepDecl => d.kind === 'step' && d.id !== undefined && d.span.start < before && !(d.span.start <= this.offset && this.offset <= d.span.end))
      .map((d) => ({ label: d.id?.name ?? '', kind: 'step' as const, detail: `step → ${d.output?.contract?.kindName.name ?? 'text'}`, ...(d.instruction?.text ? { documentation: fenced(d.instruction.text.value) } : {}) }));
  }

  private inputs(): CompletionCandidate[] {
    return this.file.declarations.flatMap((d) =>
      d.kind === 'input' && d.name ? [{ label: d.name.name, kind: 'input' as const, detail: `input: ${d.contract?.kindName.name ?? 'text'}` }] : [],
    );
  }

  private profiles(): CompletionCandidate[] {
    return this.file.declarations.flatMap((d) => {
      if (d.kind !== 'model' || !d.name) return [];
      const provider = d.properties.find((p) => p.key.name === 'provider')?.values[0];
      return [{ label: d.name.name, kind: 'profile' as const, detail: `model profile (${provider && 'value' in provider ? String(provider.value) : '?'})` }];
    });
  }

  /** After `given NAME =`: the values a `label` or `boolean` input takes (nothing to offer for the others). */
  private inputValues(name: string): CompletionCandidate[] {
    const input = this.file.declarations.find((d) => d.kind === 'input' && d.name?.name === name);
    const contract = input?.kind === 'input' ? input.contract : undefined;
    if (contract?.kindName.name === 'boolean') return ['true', 'false'].map((v) => value(v, `input ${name}: boolean`));
    return (contract?.labels?.items ?? []).flatMap((item) => (item.kind === 'word' || item.kind === 'string' ? [labelCandidate(item, `input ${name}`)] : []));
  }

  /** The label set of a step's `label [..]` contract (`output` means the last step). */
  private labelsOf(target: string): CompletionCandidate[] {
    const steps = allSteps(this.file);
    const step = steps.find((s) => s.id?.name === target) ?? (target === FINAL_OUTPUT ? steps[steps.length - 1] : undefined);
    const labels = step?.output?.contract?.labels?.items ?? [];
    return labels.flatMap((item) => (item.kind === 'word' || item.kind === 'string' ? [labelCandidate(item, step?.id?.name ?? target)] : []));
  }

  private testSnippets(): CompletionCandidate[] {
    const input = this.file.declarations.find((d) => d.kind === 'input' && d.name);
    const steps = this.file.declarations.filter((d): d is StepDecl => d.kind === 'step' && d.id !== undefined);
    const lastStep = steps[steps.length - 1]?.id?.name ?? FINAL_OUTPUT;
    const inputName = input?.kind === 'input' ? (input.name?.name ?? 'input') : 'input';
    return [
      snippet('given', `given \${1:${inputName}} = """\n  $0\n"""`, 'Set a chain input to a text block'),
      snippet('expect contains', `expect \${1:${lastStep}} contains "\${2}"`, 'Expect the output to contain a text'),
    ];
  }
}

function labelCandidate(item: Value, step: string): CompletionCandidate {
  const text = String((item as { value: unknown }).value);
  const bare = isIdentifier(text);
  return { label: text, kind: 'label', detail: `label of ${step}`, ...(bare ? {} : { insertText: JSON.stringify(text) }) };
}

function keyword(label: string, documentation: string, sortGroup: string): CompletionCandidate {
  return { label, kind: 'keyword', documentation, sortText: `${sortGroup}${label}` };
}

function value(label: string, detail: string): CompletionCandidate {
  return { label, kind: 'value', detail };
}

function snippet(label: string, insertText: string, documentation: string): CompletionCandidate {
  return { label, kind: 'snippet', insertText, snippet: true, documentation, sortText: `9${label}` };
}

function topLevelKeywords(file: CoiFile): CompletionCandidate[] {
  const hasChain = file.declarations.some((d) => d.kind === 'chain');
  const keywords = Object.entries(TOP_LEVEL_DOCS)
    .filter(([k]) => !(hasChain && (k === 'chain' || k === 'description')))
    .map(([k, doc]) => keyword(k, doc, '0'));
  const stepCount = file.declarations.filter((d) => d.kind === 'step').length;
  const snippets = [
    snippet(
      'step',
      `step \${1:step${stepCount + 1}} {\n  instruction """\n    \${2:What this step should do.}\n  """\n  output \${3|text,label,list,json,number,boolean,code|}\n}`,
      'A new step with an instruction and an output contract',
    ),
    snippet('test', `test "\${1:name}" {\n  given \${2:input} = """\n    \${3}\n  """\n  expect \${4:output} contains "\${5}"\n}`, 'A new test with an input value and an expectation'),
    snippet('model local', `model \${1:local} {\n  provider local\n  path "\${2:models/model.gguf}"\n  temperature 0\n}`, 'A local GGUF model profile'),
    // A local server (the default here) needs no key: no `api_key_env`, and never OpenAI's key for another server (COI510).
    snippet(
      'model openai',
      `model \${1:api} {\n  provider openai\n  base_url "\${2:http://127.0.0.1:11434/v1}"\n  model "\${3:llama3.2}"\n}`,
      'An OpenAI-compatible model profile (a server that wants a key: add `api_key_env "NAME"`, a variable of its own)',
    ),
    snippet('input', 'input ${1:name}: ${2|text,number,list,json|}', 'A chain input'),
  ];
  return withSnippets(keywords, snippets);
}

/**
 * Keywords and snippets, one entry per word: a keyword with a snippet of the same name is
 * offered as the snippet (listed with the keywords, with both documentations), not twice.
 */
function withSnippets(keywords: readonly CompletionCandidate[], snippets: readonly CompletionCandidate[]): CompletionCandidate[] {
  const snippetLabels = new Set(snippets.map((s) => s.label));
  const merged = snippets.map((s) => {
    const plain = keywords.find((k) => k.label === s.label);
    return plain === undefined ? s : { ...s, documentation: `${plain.documentation ?? ''}\n\n${s.documentation ?? ''}`, sortText: plain.sortText, plain };
  });
  return [...keywords.filter((k) => !snippetLabels.has(k.label)), ...merged];
}

function lineStartOf(text: string, offset: number): number {
  let i = offset;
  while (i > 0) {
    const ch = text.charCodeAt(i - 1);
    if (ch === 10 || ch === 13) break;
    i--;
  }
  return i;
}

/** The block (model, step, test) whose body holds `offset`; an unclosed block runs to the next declaration. */
function blockAt(file: CoiFile, text: string, offset: number): Block {
  const decls = file.declarations;
  for (let i = 0; i < decls.length; i++) {
    const decl = decls[i] as Declaration;
    if (decl.kind !== 'model' && decl.kind !== 'step' && decl.kind !== 'test') continue;
    const body = decl.body;
    if (!body || offset <= body.start) continue;
    const closed = text.charCodeAt(body.end - 1) === 125; /* } */
    const end = closed ? body.end - 1 : (decls[i + 1]?.span.start ?? text.length);
    if (offset <= end) return { kind: decl.kind, decl };
  }
  return { kind: 'top' };
}

function insideStringOrComment(file: CoiFile, offset: number): boolean {
  if (file.comments.some((c) => c.span.start < offset && offset <= c.span.end)) return true;
  return pathAt(file, offset).some((n) => n.kind === 'string' && n.span.start < offset && offset < n.span.end);
}
