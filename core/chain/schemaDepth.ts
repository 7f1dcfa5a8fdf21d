/**
 * How deep a JSON Schema nests. Ajv validates and compiles schemas recursively, so a
 * schema nested thousands of levels deep overflows the stack ("Maximum call stack size
 * exceeded"); the checker and the runner refuse it first with a message that says why.
 */

/** How deep objects and arrays may nest in a JSON Schema (real ones stay far below). */
export const MAX_SCHEMA_DEPTH = 256;

/** The nesting depth of a JSON value, counted without recursion; stops counting past `limit`. */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > limit) return deepest;
    for (const child of Object.values(current as Record<string, unknown>)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Why a schema is too deep to compile, or undefined. */
export function schemaDepthProblem(schema: unknown): string | undefined {
  if (jsonDepth(schema, MAX_SCHEMA_DEPTH) <= MAX_SCHEMA_DEPTH) return undefined;
  return `it nests more than ${MAX_SCHEMA_DEPTH} levels deep (objects and arrays inside each other); flatten it, e.g. with "$defs" and "$ref"`;
}
