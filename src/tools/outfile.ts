// Output files named on the command line: checked before the work starts, so a
// typo in a path costs no minutes of booting or replaying, and written with
// errors a user can read.

import { statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { PagelabError } from '../errors.js';

/**
 * checkOutputPath throws a PagelabError if `path` cannot be a file we create or overwrite, or if it is one of the
 * command's `inputs` (the same file by device and inode, whatever the path says): no command writes over its input.
 */
export function checkOutputPath(path: string, option: string, inputs: readonly string[] = []): void {
  const dir = dirname(path);
  const parent = statOrNull(dir);
  if (parent === null) throw new PagelabError(`${option} ${path}: the directory ${dir} does not exist`);
  if (!parent.isDirectory()) throw new PagelabError(`${option} ${path}: ${dir} is not a directory`);
  const out = statOrNull(path);
  if (out?.isDirectory() === true) throw new PagelabError(`${option} ${path}: it is a directory`);
  if (out === null || !out.isFile()) return;
  for (const input of inputs) {
    const s = input === '-' ? null : statOrNull(input);
    if (s !== null && s.dev === out.dev && s.ino === out.ino)
      throw new PagelabError(`${option} ${path}: that is the input ${input}; writing it would destroy it`);
  }
}

/** writeOutput writes a whole output file, turning I/O errors into PagelabError. */
export function writeOutput(path: string, data: string | Uint8Array, option: string): void {
  outputErrors(path, option, () => writeFileSync(path, data));
}

/** outputErrors runs `write`, reporting an I/O error as a PagelabError naming the file. */
export function outputErrors<T>(path: string, option: string, write: () => T): T {
  try {
    return write();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === undefined) throw e;
    throw new PagelabError(`${option} ${path}: cannot write: ${code}${ERRNO_WORDS[code] ?? ''}`);
  }
}

/** What the usual write errors mean, for the message. */
const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ENOSPC: ' (no space left on the device)',
  EACCES: ' (permission denied)',
  EROFS: ' (a read-only file system)',
  EPIPE: ' (the reader has gone)',
  EFBIG: ' (larger than the file system allows)',
};

/** statOrNull stats a path, or gives null where it does not exist. */
export function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
