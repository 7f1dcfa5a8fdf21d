/**
 * A file system error in words for messages ("ENOENT" → "no such file or directory"): the CLI's
 * messages and core's (the job store, read by the CLI and the side panel) say the same.
 */
import { isTextFileRefusal, REFUSAL_MESSAGES } from './textFile';

/** `ENOENT` → "no such file or directory", for messages. */
export function describeFsError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  // A device, a FIFO, a file too large (core's text-file guard, also a too-large standard input): core's words.
  if (isTextFileRefusal(code)) return REFUSAL_MESSAGES[code];
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a parent is not a directory';
    case 'EEXIST':
      // From mkdir, the only place coi meets it (never "already exists": a file is in the way of a folder it makes).
      return 'a file stands where a folder of the path must be';
    case 'ELOOP':
      return 'too many symbolic links (a link that points back to itself, directly or through others)';
    case 'EROFS':
      // A read-only mount (a container's, a CD, a bind mount): as plain as EACCES, not `EROFS: read-only file system, open '….tmp'`.
      return 'the file system is read-only';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'the disk quota is exceeded';
    case 'EFBIG':
      return 'the file is larger than the system allows (a file size limit)';
    case 'ENAMETOOLONG':
      return 'the name is too long for the file system';
    case 'EBINARY':
      return 'it is a binary file (it contains NUL bytes), not a text file';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
