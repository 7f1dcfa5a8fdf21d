/**
 * Parse and check results per document version. Every feature asks here; nothing is
 * computed twice for one version (and one set of settings).
 */
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { type CoiFile, type Diagnostic, parse, type ParseResult } from '../core/syntax';
import { semanticTokens, type SemanticToken, indexSymbols, type SymbolIndex } from '../core/language';
import { problemsNotShown, runCheck, type CheckOutcome } from './check';
import type { CoiServerSettings } from './protocol';

let analyses = 0;

export class Analysis {
  /** Unique per analysed text: a pulled report's result id names it, so new text never reads as "unchanged". */
  readonly serial = ++analyses;
  private symbolIndex: SymbolIndex | undefined;
  private classified: readonly SemanticToken[] | undefined;
  private checked: { key: string; outcome: CheckOutcome } | undefined;
  private notShown: { key: string; offset: number; problems: readonly Diagnostic[] } | undefined;
  private parsed: ParseResult | undefined;

  constructor(
    readonly uri: string,
    readonly version: number,
    readonly text: string,
    /** Counts changes of files a check may read (schema files): a check of an older count is redone. */
    private readonly filesGeneration: () => number = () => 0,
  ) {}

  get file(): CoiFile {
    return this.parseResult().file;
  }

  get index(): SymbolIndex {
    this.symbolIndex ??= indexSymbols(this.file);
    return this.symbolIndex;
  }

  /** Core's semantic token classification (the full and range requests both ask for it). */
  get tokens(): readonly SemanticToken[] {
    this.classified ??= semanticTokens(this.file, this.index);
    return this.classified;
  }

  /** The full check (syntax, structure, composability) under these settings. */
  check(settings: CoiServerSettings): CheckOutcome {
    const key = `${this.filesGeneration()}:${JSON.stringify(settings.composability)}`;
    if (this.checked?.key !== key) this.checked = { key, outcome: runCheck(this.uri, this.text, settings, this.parsed) };
    // The checker parses too: reuse its tree for every other feature.
    this.parsed ??= this.checked.outcome.parsed;
    return this.checked.outcome;
  }

  /** The problems at `offset` that the check's capped list leaves out (a hover asks; the last answer is kept). */
  problemsNotShownAt(settings: CoiServerSettings, offset: number): readonly Diagnostic[] {
    const outcome = this.check(settings);
    const key = this.checked?.key ?? '';
    if (this.notShown?.key !== key || this.notShown.offset !== offset) {
      this.notShown = { key, offset, problems: problemsNotShown(this.uri, this.text, settings, outcome, offset) };
    }
    return this.notShown.problems;
  }

  private parseResult(): ParseResult {
    this.parsed ??= parse(this.text);
    return this.parsed;
  }
}

/**
 * One Analysis per open document, replaced when the version changes. An entry belongs to one
 * opening of a document (the TextDocument object, which the server updates in place): a
 * request that finishes after its document closed may still ask here, and what it leaves must
 * never answer for the file opened again, whose version numbers start over. So the cache keys
 * on the object, and keeps nothing for a document that is not open (any more).
 */
export class AnalysisCache {
  private readonly byUri = new Map<string, { document: TextDocument; analysis: Analysis }>();
  private filesGeneration = 0;

  constructor(private readonly isOpen: (document: TextDocument) => boolean) {}

  get(document: TextDocument): Analysis {
    const cached = this.byUri.get(document.uri);
    // The text is compared too: a client that repeats a version number with other text must
    // not get the old results (the version alone is the client's promise, not a fact).
    if (cached && cached.document === document && cached.analysis.version === document.version && cached.analysis.text === document.getText()) return cached.analysis;
    const analysis = new Analysis(document.uri, document.version, document.getText(), () => this.filesGeneration);
    if (this.isOpen(document)) this.byUri.set(document.uri, { document, analysis });
    return analysis;
  }

  /** How many times files on disk changed (part of a pulled report's result id). */
  get filesChangedCount(): number {
    return this.filesGeneration;
  }

  /** Files on disk changed (a schema file a chain names): every check is redone when next asked. */
  filesChanged(): void {
    this.filesGeneration++;
  }

  delete(uri: string): void {
    this.byUri.delete(uri);
  }
}
