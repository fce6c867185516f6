// The physical ranges a multiboot information structure occupies: what the
// frame allocator must keep until the kernel has copied what it needs.

import type { ReservedRange } from './handoff.js';
import { MODULE_ENTRY_SIZE, type MultibootInfo } from './multiboot.js';

/** multibootRanges lists the structure, the memory map, the strings and the module list. */
export function multibootRanges(mbi: MultibootInfo): ReservedRange[] {
  const out: ReservedRange[] = [{ base: mbi.addr, length: mbi.size, what: 'multiboot info' }];
  if (mbi.mmapAddr !== null && mbi.mmapLength > 0)
    out.push({ base: mbi.mmapAddr, length: mbi.mmapLength, what: 'multiboot memory map' });
  if (mbi.cmdline !== null)
    out.push({ base: mbi.cmdline.addr, length: mbi.cmdline.text.length + 1, what: 'kernel command line' });
  if (mbi.modsAddr !== null && mbi.modules.length > 0) {
    out.push({ base: mbi.modsAddr, length: mbi.modules.length * MODULE_ENTRY_SIZE, what: 'multiboot module list' });
  }
  mbi.modules.forEach((m, i) =>
    out.push({ base: m.string.addr, length: m.string.text.length + 1, what: `module ${i} string` }),
  );
  if (mbi.loaderName !== null)
    out.push({ base: mbi.loaderName.addr, length: mbi.loaderName.text.length + 1, what: 'boot loader name' });
  return sortRanges(out);
}

/** sortRanges orders ranges by base (then length), leaving the input unchanged. */
export function sortRanges(ranges: readonly ReservedRange[]): ReservedRange[] {
  return [...ranges].sort((a, b) => a.base - b.base || a.length - b.length);
}
