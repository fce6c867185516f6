// The process kernel's audit: what RAM says must agree with itself — every
// table record's descriptor and region list read cleanly, each descriptor's
// resident count matches its present user PTEs, each frame's reference count
// equals the number of user PTEs that map it, and no mapped frame is free in
// the frame allocator. [] when all holds.

import { hex, PAGE_SIZE, type PhysAddr } from '../../hw/addr.js';
import { FRAME_MASK } from '../../hw/paging.js';
import { kread, type ProcCtx } from './ctx.js';
import { P_RESIDENT, USER_END } from './layout.js';
import { presentPages } from './pages.js';
import { regionList } from './vma.js';

/** auditProcesses checks every live process and the reference-count array. */
export function auditProcesses(k: ProcCtx): string[] {
  const out: string[] = [];
  const mapped = new Map<number, number>();
  let pids: number[];
  try {
    pids = k.table.pids();
  } catch (e) {
    return [e instanceof Error ? e.message : String(e)];
  }
  for (const pid of pids) {
    try {
      const h = k.table.open(pid);
      regionList(k, h.desc);
      const pages = presentPages(k, h.space, 0, USER_END);
      const resident = kread(k, h.desc + P_RESIDENT);
      if (resident !== pages.length)
        out.push(`process ${pid}: resident count ${resident}, ${pages.length} pages present`);
      for (const [, pte] of pages) {
        const f = (pte & FRAME_MASK) >>> 0;
        mapped.set(f, (mapped.get(f) ?? 0) + 1);
      }
    } catch (e) {
      out.push(e instanceof Error ? e.message : String(e));
    }
  }
  for (let pfn = 0; pfn < k.refs.count; pfn++) {
    const f = pfn * PAGE_SIZE;
    const want = mapped.get(f) ?? 0;
    const have = k.refs.get(f);
    if (have !== want) out.push(`frame ${hex(f)}: reference count ${have}, ${want} user PTEs map it`);
    if (want > 0 && k.frames.isFree(f as PhysAddr)) out.push(`frame ${hex(f)}: mapped by a process but free`);
  }
  return out;
}
