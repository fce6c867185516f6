// fork with copy-on-write: the child gets copies of the parent's region list
// and page tables; every present user page is shared, writable ones made
// read-only in both (the parent's with an INVLPG when it is current), and
// each shared frame's reference count goes up by one. A later write fault in
// a writable region copies the page, or takes it over when its count is 1.

import { type PhysAddr } from '../../hw/addr.js';
import { FRAME_MASK, PTE_RW, PTE_US } from '../../hw/paging.js';
import { VmError } from '../vm/error.js';
import { ENOMEM, ProcError } from './api.js';
import { emit, kread, kwrite, type ProcCtx, type ProcHandle } from './ctx.js';
import { teardown } from './exit.js';
import { P_BRK, P_BRK_START, P_FILE, P_STACK_TOP, USER_END } from './layout.js';
import { newProcess } from './newproc.js';
import { mapUser, presentPages, protectUser } from './pages.js';
import { insertRegion, regionList, vmaAlloc } from './vma.js';

const COPIED = [P_BRK_START, P_BRK, P_STACK_TOP, P_FILE];

/** forkProcess makes a COW copy of parent; returns the child's pid, or -ENOMEM (nothing left behind). */
export function forkProcess(k: ProcCtx, parent: ProcHandle): number {
  let child: ProcHandle;
  try {
    child = newProcess(k, parent.pid);
  } catch (e) {
    if (e instanceof ProcError && e.kind === 'out-of-memory') return -ENOMEM;
    throw e;
  }
  try {
    for (const o of COPIED) kwrite(k, child.desc + o, kread(k, parent.desc + o));
    for (const v of regionList(k, parent.desc)) {
      const at = vmaAlloc(k, v);
      if (at === null) throw new ProcError('out-of-memory', 'fork: out of kernel heap for a region');
      insertRegion(k, child.desc, at);
    }
    sharePages(k, parent, child);
    k.pager?.forkSwap(k, parent, child);
  } catch (e) {
    teardown(k, child);
    if (e instanceof ProcError && e.kind === 'out-of-memory') return -ENOMEM;
    throw e;
  }
  emit(k, { type: 'fork', parent: parent.pid, child: child.pid });
  return child.pid;
}

/** sharePages maps every present parent page in the child read-only, write-protecting the parent's copy. */
function sharePages(k: ProcCtx, parent: ProcHandle, child: ProcHandle): void {
  for (const [page, pte] of presentPages(k, parent.space, 0, USER_END)) {
    const frame = ((pte & FRAME_MASK) >>> 0) as PhysAddr;
    const flags = pte & PTE_US;
    if (pte & PTE_RW) protectUser(k, parent, page, flags);
    try {
      mapUser(k, child, page, frame, flags);
    } catch (e) {
      if (e instanceof VmError && e.kind === 'out-of-memory')
        throw new ProcError('out-of-memory', `fork: ${e.message}`);
      throw e;
    }
    k.refs.inc(frame);
  }
}
