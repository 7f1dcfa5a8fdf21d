/**
 * Small pure utilities over the syntax tree (core/syntax/ast.ts): children in
 * source order, the node path at an offset (hover, completion, go-to-definition),
 * and typed accessors for declarations.
 */
import type {
  CoiFile,
  ContractNode,
  Declaration,
  Identifier,
  InputDecl,
  ModelDecl,
  OptionNode,
  Span,
  StepDecl,
  StepMember,
  TestDecl,
  TestMember,
  Value,
} from './ast';

/** Any node of the tree. */
export type SyntaxNode = CoiFile | Declaration | StepMember | TestMember | ContractNode | OptionNode | Value | Identifier;

/** The direct children of `node`, in source order (absent optional parts are skipped). */
export function childrenOf(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  const add = (child: SyntaxNode | undefined): void => {
    if (child) out.push(child);
  };
  switch (node.kind) {
    case 'file':
      out.push(...node.declarations);
      break;
    case 'chain':
      add(node.name);
      break;
    case 'description':
      add(node.text);
      break;
    case 'model':
      add(node.name);
      out.push(...node.properties);
      break;
    case 'input':
      add(node.name);
      add(node.contract);
      break;
    case 'step':
      add(node.id);
      out.push(...node.members);
      break;
    case 'test':
      add(node.name);
      out.push(...node.members);
      break;
    case 'instruction':
      add(node.text);
      break;
    case 'from':
      out.push(...node.refs);
      break;
    case 'output':
      add(node.contract);
      break;
    case 'property':
      add(node.key);
      out.push(...node.values);
      break;
    case 'given':
      add(node.name);
      add(node.value);
      break;
    case 'expect':
      add(node.target);
      add(node.matcherName);
      add(node.threshold);
      add(node.value);
      out.push(...node.options);
      break;
    case 'contract':
      add(node.kindName);
      add(node.labels);
      out.push(...node.options);
      break;
    case 'option':
      add(node.key);
      add(node.value);
      break;
    case 'list':
      out.push(...node.items);
      break;
    default:
      break;
  }
  return out;
}

/** True when `offset` is inside `span` or right at its end (a cursor just after a word). */
export function spanTouches(span: Span, offset: number): boolean {
  return span.start <= offset && offset <= span.end;
}

/**
 * The path of nodes containing `offset`, outermost first: `[file, step, output,
 * contract, option, value]`. A node counts when `start <= offset <= end`; when
 * two siblings touch the offset, the one starting there wins. The file is
 * always the first element.
 */
export function pathAt(file: CoiFile, offset: number): SyntaxNode[] {
  const path: SyntaxNode[] = [file];
  let current: SyntaxNode = file;
  for (;;) {
    const children = childrenOf(current);
    let next: SyntaxNode | undefined;
    for (const child of children) {
      if (child.span.start > offset) break;
      if (offset < child.span.end) {
        next = child;
        break;
      }
      if (offset === child.span.end) next = child; // keep looking for one that starts here
    }
    if (!next) return path;
    path.push(next);
    current = next;
  }
}

/** The innermost node at `offset` (the file when nothing else is there). */
export function innermostAt(file: CoiFile, offset: number): SyntaxNode {
  const path = pathAt(file, offset);
  return path[path.length - 1] as SyntaxNode;
}

/** The declaration whose span touches `offset`, if any. */
export function declarationAt(file: CoiFile, offset: number): Declaration | undefined {
  const path = pathAt(file, offset);
  return path[1] as Declaration | undefined;
}

/** Calls `visit` on `node` and every descendant, parents before children; return false to skip a subtree. */
export function walk(node: SyntaxNode, visit: (node: SyntaxNode, parent: SyntaxNode | undefined) => boolean | void): void {
  const stack: { node: SyntaxNode; parent: SyntaxNode | undefined }[] = [{ node, parent: undefined }];
  while (stack.length > 0) {
    const { node: current, parent } = stack.pop() as { node: SyntaxNode; parent: SyntaxNode | undefined };
    if (visit(current, parent) === false) continue;
    const children = childrenOf(current);
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i] as SyntaxNode, parent: current });
  }
}

export function allModels(file: CoiFile): ModelDecl[] {
  return file.declarations.filter((d): d is ModelDecl => d.kind === 'model');
}

export function allInputs(file: CoiFile): InputDecl[] {
  return file.declarations.filter((d): d is InputDecl => d.kind === 'input');
}

export function allSteps(file: CoiFile): StepDecl[] {
  return file.declarations.filter((d): d is StepDecl => d.kind === 'step');
}

export function allTests(file: CoiFile): TestDecl[] {
  return file.declarations.filter((d): d is TestDecl => d.kind === 'test');
}

/** The first step with this id. */
export function findStep(file: CoiFile, id: string): StepDecl | undefined {
  return allSteps(file).find((s) => s.id?.name === id);
}

/** The first input with this name. */
export function findInput(file: CoiFile, name: string): InputDecl | undefined {
  return allInputs(file).find((i) => i.name?.name === name);
}

/** The first model profile with this name. */
export function findModel(file: CoiFile, name: string): ModelDecl | undefined {
  return allModels(file).find((m) => m.name?.name === name);
}

/** The name of a test as a plain string (`test "a b"` and `test a_b`). */
export function testName(test: TestDecl): string | undefined {
  if (!test.name) return undefined;
  return test.name.kind === 'string' ? test.name.value : test.name.name;
}

/** The text of a value when it is a string or a word (labels, languages, refs), else undefined. */
export function textOf(value: Value | undefined): string | undefined {
  if (!value) return undefined;
  if (value.kind === 'string' || value.kind === 'word') return value.value;
  return undefined;
}

/** The option with this key in a contract or an expectation. */
export function findOption(options: readonly OptionNode[], key: string): OptionNode | undefined {
  return options.find((o) => o.key.name === key);
}
