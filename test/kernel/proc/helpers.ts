// Test helpers for the process kernel: a tiny ELF32 i386 ET_EXEC builder and
// a bring-up of the kernel (fake boot, kernelInit) with the process kernel on it.

import { kernelInit, type Kernel } from '../../../src/kernel/main.js';
import { createProcessKernel } from '../../../src/kernel/proc/proc.js';
import type { ProcessEvent, ProcessKernel } from '../../../src/kernel/proc/api.js';
import type { FrameStrategy } from '../../../src/kernel/frames/api.js';
import { fakeBoot } from '../fakeboot.js';

export interface SegSpec {
  vaddr: number;
  /** The file bytes of the segment (filesz = data.length). */
  data: Uint8Array;
  memsz?: number;
  /** p_flags: 1 X, 2 W, 4 R. */
  flags: number;
  /** Override p_offset (default: the next offset congruent to vaddr modulo 4096). */
  offset?: number;
}

export interface ElfSpec {
  entry?: number;
  segments: SegSpec[];
  type?: number;
  machine?: number;
  /** Extra program headers (type only, no file bytes), e.g. PT_INTERP. */
  extraTypes?: number[];
}

/** buildElf lays out an ELF header, program headers and each segment's bytes at a congruent offset. */
export function buildElf(spec: ElfSpec): Uint8Array {
  const phnum = spec.segments.length + (spec.extraTypes?.length ?? 0);
  const offsets: number[] = [];
  let cursor = 52 + 32 * phnum;
  for (const s of spec.segments) {
    const want = s.vaddr % 4096;
    let off = s.offset ?? cursor + ((want - (cursor % 4096) + 4096) % 4096);
    if (s.offset === undefined && off < cursor) off += 4096;
    offsets.push(off);
    cursor = Math.max(cursor, off + s.data.length);
  }
  const bytes = new Uint8Array(Math.max(cursor, 52 + 32 * phnum));
  spec.segments.forEach((s, i) => bytes.set(s.data, offsets[i])); // first: a segment at offset 0 holds the headers
  bytes.fill(0, 0, 52 + 32 * phnum);
  const v = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  v.setUint16(16, spec.type ?? 2, true);
  v.setUint16(18, spec.machine ?? 3, true);
  v.setUint32(20, 1, true);
  v.setUint32(24, spec.entry ?? spec.segments[0].vaddr, true);
  v.setUint32(28, 52, true);
  v.setUint16(40, 52, true);
  v.setUint16(42, 32, true);
  v.setUint16(44, phnum, true);
  spec.segments.forEach((s, i) => {
    const o = 52 + 32 * i;
    v.setUint32(o, 1, true);
    v.setUint32(o + 4, offsets[i], true);
    v.setUint32(o + 8, s.vaddr, true);
    v.setUint32(o + 12, s.vaddr, true);
    v.setUint32(o + 16, s.data.length, true);
    v.setUint32(o + 20, s.memsz ?? s.data.length, true);
    v.setUint32(o + 24, s.flags, true);
    v.setUint32(o + 28, 4096, true);
  });
  (spec.extraTypes ?? []).forEach((t, j) => v.setUint32(52 + 32 * (spec.segments.length + j), t, true));
  return bytes;
}

/** pattern gives n bytes derived from a seed. */
export function pattern(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed * 13 + 1) & 0xff);
}

export const TEXT = 0x08048000;
export const DATA = 0x08050000;
export const STACK_TOP = 0xbf000000;

/**
 * A program: two text pages (R X; from file offset 0, the headers included, as ld lays it out),
 * a data page and a half plus 3 pages of .bss (R W).
 */
export function sampleElf(): Uint8Array {
  return buildElf({
    entry: TEXT + 0x10,
    segments: [
      { vaddr: TEXT, data: pattern(0x2000, 1), flags: 5, offset: 0 },
      { vaddr: DATA + 0x100, data: pattern(0x1800, 2), memsz: 0x1800 + 0x3000, flags: 6 },
    ],
  });
}

export interface Rig {
  kernel: Kernel;
  pk: ProcessKernel;
  events: ProcessEvent[];
}

/** rig boots a fake machine, brings up the kernel and the process kernel, recording events. */
export function rig(
  opts: {
    ram?: number;
    frames?: FrameStrategy;
    tlb?: string;
    ptAccess?: 'slot' | 'recursive';
    globalKernel?: boolean;
  } = {},
): Rig {
  const info = fakeBoot({ ram: opts.ram ?? 32 << 20, tlb: opts.tlb });
  const kernel = kernelInit(info, {
    frames: opts.frames ?? 'bitmap',
    ptAccess: opts.ptAccess ?? 'slot',
    globalKernel: opts.globalKernel ?? true,
  });
  const events: ProcessEvent[] = [];
  const pk = createProcessKernel(kernel, { onEvent: (e) => events.push(e) });
  return { kernel, pk, events };
}

/** start execs the sample program and switches to it. */
export function start(r: Rig, elf = sampleElf(), argv = ['prog'], envp = ['HOME=/']): number {
  const { pid } = r.pk.exec(elf, argv, envp, { stackTop: STACK_TOP });
  r.pk.switchTo(pid);
  return pid;
}
