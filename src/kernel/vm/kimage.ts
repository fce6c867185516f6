// Kernel image permissions: once the kernel VM is up, the pages of the
// kernel's read-only segments (.text, .rodata: PT_LOAD without PF_W) are
// mapped read-only, so with CR0.WP the kernel cannot overwrite its own code.
// A page shared with a writable segment stays writable.

import { PAGE_SIZE, lin } from '../../hw/addr.js';
import type { KernelSegment } from '../../boot/handoff.js';
import type { KernelVm } from './kvm.js';

export const ELF_PF_W = 2;

/** protectKernelImage maps the read-only segments' pages read-only; returns how many pages changed. */
export function protectKernelImage(vm: KernelVm, segments: readonly KernelSegment[]): number {
  const writable = new Set<number>();
  for (const s of segments) if (s.flags & ELF_PF_W) for (const p of pagesOf(s)) writable.add(p);
  let changed = 0;
  for (const s of segments) {
    if (s.flags & ELF_PF_W) continue;
    for (const p of pagesOf(s)) {
      if (writable.has(p) || vm.kernel.translate(lin(p)) === null) continue;
      vm.kernel.protect(lin(p), 0).flush();
      changed++;
    }
  }
  return changed;
}

/** pagesOf lists the 4 KiB pages a segment covers in the kernel half. */
function pagesOf(s: KernelSegment): number[] {
  const pages: number[] = [];
  const first = s.virtualStart - (s.virtualStart % PAGE_SIZE);
  for (let p = first; p < s.virtualStart + s.memorySize; p += PAGE_SIZE) if (p >= 0xc0000000) pages.push(p);
  return pages;
}
