// Where code lives, for the lint's writable-code check: the loadable segments
// of a kernel ELF that are executable and not writable ("the layout says code
// is read-only").

import { readFileSync } from 'node:fs';
import { PagelabError } from '../../errors.js';
import { PF_W, PF_X, PT_LOAD, parseElf32 } from '../../boot/elf.js';
import type { AddressRange } from './lint.js';

/** codeRangesOfElf lists the linear ranges (inclusive) of read-only executable PT_LOAD segments. */
export function codeRangesOfElf(path: string): AddressRange[] {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new PagelabError(`cannot read kernel ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return parseElf32(bytes, path)
    .programHeaders.filter(
      (ph) => ph.type === PT_LOAD && (ph.flags & PF_X) !== 0 && (ph.flags & PF_W) === 0 && ph.memsz > 0,
    )
    .map((ph) => ({ start: ph.vaddr, end: ph.vaddr + ph.memsz - 1 }));
}
