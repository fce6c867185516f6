// Where code lives, for the lint's writable-code check: the loadable segments
// of a kernel ELF that are executable and not writable ("the layout says code
// is read-only").

import { INPUT_LIMITS, readInput } from '../io/input.js';
import { PF_W, PF_X, PT_LOAD, parseElf32 } from '../../boot/elf.js';
import type { AddressRange } from './lint.js';

/** codeRangesOfElf lists the linear ranges (inclusive) of read-only executable PT_LOAD segments. */
export function codeRangesOfElf(path: string): AddressRange[] {
  const bytes = readInput(path, '--kernel', INPUT_LIMITS.kernel);
  return parseElf32(bytes, path)
    .programHeaders.filter(
      (ph) => ph.type === PT_LOAD && (ph.flags & PF_X) !== 0 && (ph.flags & PF_W) === 0 && ph.memsz > 0,
    )
    .map((ph) => ({ start: ph.vaddr, end: ph.vaddr + ph.memsz - 1 }));
}
