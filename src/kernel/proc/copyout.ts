// copy_to_user: the kernel writes into a process's memory at CPL 0 through
// the user mapping (the process's directory is in CR3). With CR0.WP set a
// supervisor write to a read-only PTE faults (SDM 4.6.1), so a shared COW page
// is copied before the write, and an absent page is faulted in, as for the
// process itself. Every page is made writable first: a refused page means
// -EFAULT with nothing written.

import { PAGE_SIZE, pageAlignDown } from '../../hw/addr.js';
import { ACCESS_WRITE } from '../../hw/fault.js';
import { EFAULT } from './api.js';
import type { ProcCtx, ProcHandle } from './ctx.js';
import { handleFault } from './fault.js';
import { USER_END } from './layout.js';

/** copyOut writes bytes at addr in h's memory (h current); 0, or -EFAULT. */
export function copyOut(k: ProcCtx, h: ProcHandle, addr: number, bytes: Uint8Array): number {
  if (bytes.length === 0) return 0;
  if (!Number.isInteger(addr) || addr < 0 || addr + bytes.length > USER_END) return -EFAULT;
  const mmu = k.machine.mmu;
  mmu.setCpl(0);
  // with a frame budget a later page's fault may evict an earlier one: go over them until all stand
  for (let pass = 0, ok = false; !ok; pass++) {
    ok = true;
    for (let page = pageAlignDown(addr); page < addr + bytes.length; page += PAGE_SIZE) {
      if (mmu.translate(Math.max(page, addr), ACCESS_WRITE) >= 0) continue;
      if (pass > 3 || writable(k, h, Math.max(page, addr)) < 0) return -EFAULT;
      ok = false;
    }
  }
  k.machine.writeBytes(addr, bytes); // every page is present and writable now: no fault
  return 0;
}

/** writable translates a supervisor write, resolving faults; the physical address or -1 if refused. */
function writable(k: ProcCtx, h: ProcHandle, linear: number): number {
  const mmu = k.machine.mmu;
  for (let tries = 0; tries < 3; tries++) {
    const p = mmu.translate(linear, ACCESS_WRITE);
    if (p >= 0) return p;
    if (!handleFault(k, h, mmu.cr2, mmu.faultCode).ok) return -1;
  }
  return -1;
}
