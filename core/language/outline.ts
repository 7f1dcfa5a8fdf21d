/** The outline of a file (chain → profiles, inputs, steps, tests) and a flat list for workspace search. */
import type { CoiFile, ContractNode, Declaration, Span, StringValue, Identifier } from '../syntax/ast';
import { firstLine } from '../syntax/characters';

/** The longest first line of a description or an instruction an outline entry shows (UTF-16 units, never half an emoji). */
const OUTLINE_DETAIL_LENGTH = 60;

export type OutlineKind = 'chain' | 'model' | 'input' | 'step' | 'test' | 'expect';

export interface OutlineSymbol {
  readonly name: string;
  readonly detail?: string;
  readonly kind: OutlineKind;
  /** The whole declaration. */
  readonly span: Span;
  /** The name (what the editor selects and reveals). */
  readonly selectionSpan: Span;
  readonly children: readonly OutlineSymbol[];
}

export function outline(file: CoiFile): OutlineSymbol[] {
  const items = file.declarations.flatMap((d) => symbolOf(d));
  const chain = file.declarations.find((d) => d.kind === 'chain');
  if (!chain) return items;
  const name = chain.name ? nameOf(chain.name) : '(unnamed chain)';
  const description = file.declarations.find((d) => d.kind === 'description')?.text?.value;
  return [
    {
      name,
      kind: 'chain',
      ...(description ? { detail: firstLine(description, OUTLINE_DETAIL_LENGTH) } : {}),
      span: file.span,
      selectionSpan: chain.name?.span ?? chain.keyword,
      children: items,
    },
  ];
}

function symbolOf(decl: Declaration): OutlineSymbol[] {
  switch (decl.kind) {
    case 'model': {
      const provider = decl.properties.find((p) => p.key.name === 'provider')?.values[0];
      return decl.name
        ? [leaf(decl.name.name, 'model', decl.span, decl.name.span, provider && 'value' in provider ? `provider ${String(provider.value)}` : undefined)]
        : [];
    }
    case 'input':
      return decl.name ? [leaf(decl.name.name, 'input', decl.span, decl.name.span, contractSummary(decl.contract))] : [];
    case 'step': {
      if (!decl.id) return [];
      const contract = decl.output?.contract ? contractSummary(decl.output.contract) : 'text';
      const instruction = decl.instruction?.text?.value;
      const detail = instruction ? `→ ${contract} · ${firstLine(instruction, OUTLINE_DETAIL_LENGTH)}` : `→ ${contract}`;
      return [leaf(decl.id.name, 'step', decl.span, decl.id.span, detail)];
    }
    case 'test': {
      const name = decl.name ? nameOf(decl.name) : '(unnamed test)';
      const children = decl.expects
        .filter((e) => e.target)
        .map((e) => leaf(`expect ${e.target?.name ?? ''}${e.negated ? ' not' : ''} ${e.matcherName?.name ?? ''}`.trim(), 'expect', e.span, e.target?.span ?? e.keyword));
      return [{ name, kind: 'test', span: decl.span, selectionSpan: decl.name?.span ?? decl.keyword, children }];
    }
    default:
      return [];
  }
}

function leaf(name: string, kind: OutlineKind, span: Span, selectionSpan: Span, detail?: string): OutlineSymbol {
  return { name, kind, span, selectionSpan, children: [], ...(detail ? { detail } : {}) };
}

export function nameOf(name: Identifier | StringValue): string {
  return name.kind === 'identifier' ? name.name : name.value;
}

/** `label [positive, negative]`, `text lang=fr`, ... as written, on one line. */
export function contractSummary(contract: ContractNode | undefined): string {
  if (!contract) return 'text';
  const labels = contract.labels ? ` [${contract.labels.items.map((i) => ('value' in i ? String(i.value) : '…')).join(', ')}]` : '';
  const options = contract.options.map((o) => `${o.key.name}=${o.value && 'raw' in o.value ? o.value.raw : o.value && 'value' in o.value ? String(o.value.value) : ''}`);
  return [`${contract.kindName.name}${labels}`, ...options].join(' ');
}

export interface FlatSymbol {
  readonly name: string;
  readonly kind: OutlineKind;
  readonly containerName?: string;
  readonly span: Span;
}

/**
 * Every named thing of a file, flat, in outline order, each with its container's name.
 * `expect` lines are left out unless asked for: workspace search does not want them, a flat outline does.
 */
export function flatSymbols(file: CoiFile, options: { readonly expects?: boolean } = {}): FlatSymbol[] {
  const out: FlatSymbol[] = [];
  const visit = (symbols: readonly OutlineSymbol[], container?: string): void => {
    for (const s of symbols) {
      if (s.kind === 'expect' && options.expects !== true) continue;
      out.push({ name: s.name, kind: s.kind, span: s.selectionSpan, ...(container ? { containerName: container } : {}) });
      visit(s.children, s.name);
    }
  };
  visit(outline(file));
  return out;
}

/** Case-insensitive subsequence match (`sumtr` matches `summarize_then_translate`). */
export function fuzzyMatches(query: string, name: string): boolean {
  const q = query.toLowerCase();
  const n = name.toLowerCase();
  let i = 0;
  for (let j = 0; j < n.length && i < q.length; j++) if (n[j] === q[i]) i++;
  return i === q.length;
}
