/**
 * File paths from the URIs clients send. Not every `file:` URI is a path here: a UNC host
 * (`file://server/share/x.coi`) has none on Linux or macOS, and an encoded `/` (`a%2Fb.coi`)
 * cannot be one; `fileURLToPath` throws on both. Such a document is still checked and
 * edited — only what needs its folder on disk (a `schema_file`) is not read.
 */
import { fileURLToPath } from 'node:url';

/** The local path of a `file:` URI, or undefined when it has none on this machine. */
export function filePathOf(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}
