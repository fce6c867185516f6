// The page-fault handler for user addresses (CR2 and the error code as the
// hardware gives them, SDM 4.7): demand-zero, file read, stack growth down to
// STACK_MAX below the stack top, copy-on-write; anything else is refused with
// a reason (the caller kills the process, or a copy-out returns -EFAULT).
// No fault-around, no shared zero page: each first touch takes its own zeroed frame.

import { hex, PAGE_SIZE, pageAlignDown, type PhysAddr } from '../../hw/addr.js';
import { FRAME_MASK, PF_P, PF_U, PF_W, PTE_D, PTE_RW, PTE_US } from '../../hw/paging.js';
import { VmError } from '../vm/error.js';
import { ProcError, PROT_WRITE, type FaultKind, type KillReason } from './api.js';
import { emit, kadd, kread, kwrite, type ProcCtx, type ProcHandle } from './ctx.js';
import {
  G_COW_COPIES,
  G_COW_TAKEOVERS,
  G_PAGE_FAULTS,
  G_PAGE_INS,
  KIND_FILE,
  KIND_STACK,
  P_FAULTS,
  P_PAGE_INS,
  P_STACK_TOP,
  STACK_GUARD,
  STACK_MAX,
  USER_END,
  V_START,
} from './layout.js';
import { fillPage, mapUser, protectUser, replaceFrame, userPte } from './pages.js';
import { findRegion, regionList, type Vma } from './vma.js';
import { isSwapEntry } from '../swap/pte.js';

/** What the handler made of a fault. */
export type FaultOutcome =
  | { readonly ok: true; readonly kind: FaultKind }
  | { readonly ok: false; readonly reason: KillReason; readonly region: Vma | null };

const FAULT_INDEX: Readonly<Record<FaultKind, number>> = {
  zero: 0,
  file: 1,
  stack: 2,
  cow: 3,
  protection: 4,
  swap: -1,
};

/** handleFault resolves a fault at addr with the hardware's error code for process h, counting it. */
export function handleFault(k: ProcCtx, h: ProcHandle, addr: number, code: number): FaultOutcome {
  kadd(k, k.globals + G_PAGE_FAULTS, 1);
  const out = resolve(k, h, addr >>> 0, code);
  const index = FAULT_INDEX[out.ok ? out.kind : 'protection'];
  if (index >= 0) kadd(k, h.desc + P_FAULTS + 4 * index, 1); // struct proc has no swap count: the pager has
  if (k.pager !== null && out.ok) countFault(k, out.kind);
  if (out.ok)
    emit(k, {
      type: 'fault',
      pid: h.pid,
      address: addr >>> 0,
      errorCode: code,
      kind: out.kind,
      kernel: !(code & PF_U),
    });
  return out;
}

/** countFault counts a resolved fault in the pager's counters (a swap-in counts itself, as a major fault). */
function countFault(k: ProcCtx, kind: FaultKind): void {
  if (k.pager === null || kind === 'swap') return;
  k.pager.count(k, 'minorFaults');
  if (kind === 'file') k.pager.count(k, 'fileReads');
  else if (kind !== 'cow') k.pager.count(k, 'zeroFills');
}

/** resolve decides what the fault is and does it. */
function resolve(k: ProcCtx, h: ProcHandle, addr: number, code: number): FaultOutcome {
  if (addr >= USER_END) return refuse('kernel address', null);
  const region = findRegion(k, h.desc, addr) ?? growStack(k, h, addr);
  if (region === null) return refuse(belowStackLimit(k, h, addr) ? 'stack limit' : 'no region', null);
  if (region.prot === 0) return refuse('no access', region);
  if (code & PF_W && !(region.prot & PROT_WRITE)) return refuse('write to read-only', region);
  const page = pageAlignDown(addr);
  if (!(code & PF_P)) {
    const pte = k.pager === null ? 0 : userPte(k, h.space, page);
    if (pte !== 0 && isSwapEntry(pte)) {
      const ok = k.pager !== null && k.pager.swapIn(k, h, page, pte, (region.prot & PROT_WRITE) !== 0);
      return ok ? { ok: true, kind: 'swap' } : refuse('out of memory', region);
    }
    return pageIn(k, h, region, page);
  }
  if (code & PF_W) return copyOnWrite(k, h, page);
  return refuse('no access', region); // present, readable region, yet refused: its PTE is supervisor-only
}

/** refuse is a fault the handler cannot resolve. */
function refuse(reason: KillReason, region: Vma | null): FaultOutcome {
  return { ok: false, reason, region };
}

/** growStack extends the stack region down to addr's page when that stays within STACK_MAX of its top. */
function growStack(k: ProcCtx, h: ProcHandle, addr: number): Vma | null {
  const list = regionList(k, h.desc);
  const stack = list.find((v) => v.kind === KIND_STACK);
  if (stack === undefined || addr >= stack.start) return null;
  const top = kread(k, h.desc + P_STACK_TOP);
  const page = pageAlignDown(addr);
  if (page < top - STACK_MAX) return null;
  if (list.some((v) => v.end > page && v.start < stack.start && v.end > v.start)) return null;
  kwrite(k, stack.at + V_START, page);
  return { ...stack, start: page };
}

/** belowStackLimit: addr lies just under the stack's 8 MiB limit (a stack overflow rather than a stray pointer). */
function belowStackLimit(k: ProcCtx, h: ProcHandle, addr: number): boolean {
  const limit = kread(k, h.desc + P_STACK_TOP) - STACK_MAX;
  return addr < limit && addr >= limit - STACK_GUARD;
}

/** pageIn gives a not-present page a zeroed frame, with the file's bytes for a file region. */
function pageIn(k: ProcCtx, h: ProcHandle, v: Vma, page: number): FaultOutcome {
  const frame = k.pager === null ? k.frames.alloc({ zero: true }) : k.pager.alloc(k, h, page, true);
  if (frame === null) return refuse('out of memory', v);
  const fileBytes = v.kind === KIND_FILE ? readFilePage(k, v, page, frame) : 0;
  try {
    mapUser(k, h, page, frame, PTE_US | (v.prot & PROT_WRITE ? PTE_RW : 0));
  } catch (e) {
    k.pager?.release(frame);
    k.frames.free(frame);
    if (e instanceof VmError && e.kind === 'out-of-memory') return refuse('out of memory', v);
    throw e;
  }
  k.refs.set(frame, 1);
  kadd(k, h.desc + P_PAGE_INS, 1);
  kadd(k, k.globals + G_PAGE_INS, 1);
  return { ok: true, kind: v.kind === KIND_STACK ? 'stack' : fileBytes > 0 ? 'file' : 'zero' };
}

/** readFilePage copies the file's bytes for one page of a file region into a frame; returns how many. */
function readFilePage(k: ProcCtx, v: Vma, page: number, frame: PhysAddr): number {
  const file = v.file < k.files.length ? k.files[v.file] : undefined; // the id is from RAM
  const from = Math.max(page, v.start);
  const to = Math.min(page + PAGE_SIZE, v.fileEnd);
  if (file === undefined || to <= from) return 0;
  const base = v.fileOffset + (from - v.start);
  const slot = k.vm.core.slot;
  const linear = slot.map(frame);
  try {
    fillPage(k, linear, from - page, file, base, to - from);
  } finally {
    slot.unmap();
  }
  return to - from;
}

/** copyOnWrite breaks sharing on a write to a present read-only page of a writable region. */
function copyOnWrite(k: ProcCtx, h: ProcHandle, page: number): FaultOutcome {
  const pte = userPte(k, h.space, page);
  const old = ((pte & FRAME_MASK) >>> 0) as PhysAddr;
  const count = k.refs.get(old);
  if (count === 0) throw new ProcError('corrupted', `reference count of frame ${hex(old)} is 0, but a PTE maps it`);
  if (count === 1) {
    protectUser(k, h, page, PTE_RW | (pte & PTE_US));
    kadd(k, k.globals + G_COW_TAKEOVERS, 1);
    return { ok: true, kind: 'cow' };
  }
  const frame = k.pager === null ? k.frames.alloc() : k.pager.alloc(k, h, page, false);
  if (frame === null) return refuse('out of memory', null);
  copyFrame(k, old, frame);
  // with a budget the copy is mapped dirty (Linux's pte_mkdirty in wp_page_copy): it differs from where its page
  // first came from, and another fault before the write is retried (a straddling access) may evict it
  replaceFrame(k, h, page, frame, PTE_US | PTE_RW | (k.pager === null ? 0 : PTE_D));
  k.refs.set(old, count - 1);
  k.refs.set(frame, 1);
  kadd(k, k.globals + G_COW_COPIES, 1);
  return { ok: true, kind: 'cow' };
}

/** copyFrame copies one frame to another through two temporary-mapping slots. */
function copyFrame(k: ProcCtx, from: PhysAddr, to: PhysAddr): void {
  const slot = k.vm.core.slot;
  const src = slot.map(from);
  try {
    const dst = slot.map(to);
    try {
      for (let off = 0; off < PAGE_SIZE; off += 4) k.machine.write32(dst + off, k.machine.read32(src + off));
    } finally {
      slot.unmap();
    }
  } finally {
    slot.unmap();
  }
}
