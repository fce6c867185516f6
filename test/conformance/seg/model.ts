// A segmentation case on src/hw/segments.ts: the same GDT in a model memory,
// the same ops, the same outcomes as the QEMU kernel reports them.

import { ACCESS_READ, ACCESS_WRITE } from '../../../src/hw/fault.js';
import { Segmentation, SegmentFault, type SegmentationProfile } from '../../../src/hw/segments.js';
import {
  AREA_END,
  AREA_START,
  FIRST,
  KERNEL_CODE,
  KERNEL_DATA,
  OP_LOAD,
  OP_READ,
  WRITE_VALUE,
  type OpOutcome,
  type SegCase,
  type SegOp,
  type SegOutcome,
} from './case.js';

/** Where the model's GDT sits (its linear address does not matter: paging is off in both). */
const GDT_BASE = 0x1000;

/** A read's value that the model cannot know (outside the test area), compared as "any". */
export const UNKNOWN = -1;

/** The model's memory: the GDT words of the case under way and the test area's bytes (kept across a batch). */
export class ModelMemory {
  gdt = new Uint32Array(0);
  readonly area = new Uint8Array(AREA_END - AREA_START);
  constructor() {
    for (let p = AREA_START; p < AREA_END; p++) this.area[p - AREA_START] = (p ^ (p >>> 8) ^ (p >>> 16)) & 0xff;
  }
  /** install writes a case's GDT: the kernel's entries, then the case's from FIRST. */
  install(c: SegCase): void {
    this.gdt = new Uint32Array((FIRST + c.entries.length) * 2);
    this.gdt.set([0, 0, ...KERNEL_CODE, ...KERNEL_DATA, 0, 0]);
    c.entries.forEach(([lo, hi], i) => this.gdt.set([lo, hi], (FIRST + i) * 2));
  }
  /** read reads `size` bytes little-endian at a linear address, UNKNOWN outside the test area. */
  read(linear: number, size: number): number {
    if (linear < AREA_START || linear + size > AREA_END) return UNKNOWN;
    let v = 0;
    for (let k = size - 1; k >= 0; k--) v = v * 256 + this.area[linear - AREA_START + k];
    return v;
  }
  /** write stores WRITE_VALUE's four bytes where they fall inside the test area. */
  write(linear: number): void {
    for (let k = 0; k < 4; k++) {
      const p = linear + k;
      if (p >= AREA_START && p < AREA_END) this.area[p - AREA_START] = (WRITE_VALUE >>> (8 * k)) & 0xff;
    }
  }
}

/** runSegBatchOnModel runs cases in order on one memory, as the kernel runs a batch. */
export function runSegBatchOnModel(cases: readonly SegCase[], profile: SegmentationProfile = 'qemu'): SegOutcome[] {
  const mem = new ModelMemory();
  return cases.map((c) => runSegOnModel(c, mem, profile));
}

/** runSegOnModel runs a case on the segmentation unit with the given access profile, as the kernel does. */
export function runSegOnModel(c: SegCase, mem: ModelMemory, profile: SegmentationProfile): SegOutcome {
  mem.install(c);
  const seg = new Segmentation(
    {
      readSystem32: (l) => mem.gdt[(l - GDT_BASE) / 4] ?? 0,
      writeSystem32: (l, v) => {
        mem.gdt[(l - GDT_BASE) / 4] = v;
      },
    },
    profile,
  );
  seg.lgdt(GDT_BASE, c.limit);
  seg.lldt(0);
  const ops = c.ops.map((o) => runOp(seg, mem, o));
  const highs = c.entries.map((_, i) => mem.gdt[(FIRST + i) * 2 + 1]);
  return { ops, highs };
}

/** runOp runs one op as the kernel does, catching the faults it catches. */
function runOp(seg: Segmentation, mem: ModelMemory, o: SegOp): OpOutcome {
  try {
    if (o.op === OP_LOAD) {
      seg.load(o.reg, o.selector);
      return { vector: 0, code: 0, value: 0 };
    }
    const size = o.op === OP_READ ? o.size : 4;
    const linear = seg.toLinear(o.reg, o.offset, size, o.op === OP_READ ? ACCESS_READ : ACCESS_WRITE);
    if (linear < 0) throw seg.lastFault as SegmentFault;
    if (o.op === OP_READ) return { vector: 0, code: 0, value: mem.read(linear, size) };
    mem.write(linear);
    return { vector: 0, code: 0, value: 0 };
  } catch (e) {
    if (!(e instanceof SegmentFault)) throw e;
    return { vector: e.vector, code: e.errorCode, value: 0 };
  }
}
