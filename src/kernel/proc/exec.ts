// exec: a process from an ELF image. Each PT_LOAD segment becomes a file
// region (its pages read on first touch; the part past p_filesz reads as
// zero), a brk region starts empty after them, and the stack region below the
// given top holds argv, envp and auxv, written through the MMU as a copy-out
// (those pages fault in as stack pages). Nothing else is copied up front.

import { pageAlignDown, pageAlignUp } from '../../hw/addr.js';
import { FRAME_MASK } from '../../hw/paging.js';
import { ProcError, PROT_READ, PROT_WRITE, type ExecOptions, type ExecResult } from './api.js';
import { copyOut } from './copyout.js';
import { emit, kwrite, type ProcCtx, type ProcHandle } from './ctx.js';
import { parseUserImage, type UserImage } from './elf.js';
import { teardown } from './exit.js';
import {
  KIND_BRK,
  KIND_FILE,
  KIND_STACK,
  P_BRK,
  P_BRK_START,
  P_FILE,
  P_STACK_TOP,
  STACK_MAX,
  USER_END,
} from './layout.js';
import { newProcess } from './newproc.js';
import { buildStack } from './stack.js';
import { fileId } from './syscalls.js';
import { insertRegion, vmaAlloc, type VmaFields } from './vma.js';

/** execProcess creates and lays out a process; the CR3 in force is restored before it returns. */
export function execProcess(
  k: ProcCtx,
  elf: Uint8Array,
  argv: readonly string[],
  envp: readonly string[],
  opts: ExecOptions,
): ExecResult {
  const img = parseUserImage(elf);
  checkOptions(img, opts);
  const stack = buildStack(img, argv, envp, opts.stackTop);
  const brk = opts.brk ?? img.end;
  const h = newProcess(k, opts.parent ?? 0);
  try {
    const file = fileId(k, elf);
    kwrite(k, h.desc + P_FILE, file);
    kwrite(k, h.desc + P_BRK_START, brk);
    kwrite(k, h.desc + P_BRK, brk);
    kwrite(k, h.desc + P_STACK_TOP, opts.stackTop);
    for (const s of img.segments) {
      const start = pageAlignDown(s.vaddr);
      addRegion(k, h, {
        start,
        end: pageAlignUp(s.vaddr + s.memsz),
        prot: s.prot,
        kind: KIND_FILE,
        fileOffset: s.offset - (s.vaddr - start),
        fileEnd: s.vaddr + s.filesz,
        file,
      });
    }
    const rw = PROT_READ | PROT_WRITE;
    addRegion(k, h, {
      start: pageAlignUp(brk),
      end: pageAlignUp(brk),
      prot: rw,
      kind: KIND_BRK,
      fileOffset: 0,
      fileEnd: 0,
      file: 0,
    });
    const low = pageAlignDown(stack.sp);
    addRegion(k, h, { start: low, end: opts.stackTop, prot: rw, kind: KIND_STACK, fileOffset: 0, fileEnd: 0, file: 0 });
    writeStack(k, h, stack.sp, stack.bytes);
  } catch (e) {
    teardown(k, h);
    throw e;
  }
  emit(k, { type: 'exec', pid: h.pid, entry: img.entry, stackPointer: stack.sp });
  return { pid: h.pid, entry: img.entry, stackPointer: stack.sp, brk };
}

/** checkOptions refuses a stack top or break that does not fit the image and the user half. */
function checkOptions(img: UserImage, opts: ExecOptions): void {
  const top = opts.stackTop;
  if (!Number.isInteger(top) || top % 4096 !== 0 || top > USER_END || top - STACK_MAX < img.end)
    throw new ProcError(
      'bad-argument',
      `exec: stack top ${String(top)} must be page-aligned, at most 0xC0000000 and 8 MiB above the image's end`,
    );
  const brk = opts.brk;
  if (brk !== undefined && (!Number.isInteger(brk) || brk < img.end || brk >= top - STACK_MAX))
    throw new ProcError('bad-argument', `exec: brk ${String(brk)} must lie between the image's end and the stack`);
}

/** addRegion puts a new region in the list; out of heap memory is ProcError('out-of-memory'). */
function addRegion(k: ProcCtx, h: ProcHandle, v: VmaFields): void {
  const at = vmaAlloc(k, v);
  if (at === null) throw new ProcError('out-of-memory', 'out of kernel heap for a region');
  insertRegion(k, h.desc, at);
}

/** writeStack copies the initial stack out through the new process's mapping, then restores CR3. */
function writeStack(k: ProcCtx, h: ProcHandle, sp: number, bytes: Uint8Array): void {
  const mmu = k.machine.mmu;
  const before = mmu.cr3;
  mmu.writeCr3((h.space.directory & FRAME_MASK) >>> 0); // a kernel-internal switch: not a context switch
  try {
    if (copyOut(k, h, sp, bytes) !== 0) throw new ProcError('out-of-memory', 'exec: out of memory for the stack');
  } finally {
    mmu.writeCr3(before);
  }
}
