// The kernel's global descriptor table, as the seeds' kernels (and xv6's
// seginit) set it up: a null descriptor, then flat 4 GiB code and data
// segments for the kernel (DPL 0) and for user mode (DPL 3). Paging does all
// the protection; segmentation is made transparent (base 0, limit 4 GiB).
// The table is a kernel-heap object, written through its linear address, and
// GDTR points at that address; CS is reloaded by a far jump and the data
// registers by moves, as the assembly stub after LGDT does.

import { hex, type LinAddr } from '../hw/addr.js';
import type { Machine } from '../hw/machine.js';
import { CS, DS, ES, FS, GS, SS } from '../hw/segments.js';
import { TYPE_CODE, TYPE_WRITABLE_OR_READABLE, encodeDescriptor } from '../hw/segdesc.js';
import type { KernelHeap } from './heap/api.js';
import { PagelabError } from '../errors.js';

/** Selectors of the kernel's GDT (index << 3 | RPL), as xv6 numbers them (SEG_KCODE = 1, ...). */
export const SEL_KCODE = 0x08;
export const SEL_KDATA = 0x10;
export const SEL_UCODE = 0x18 | 3;
export const SEL_UDATA = 0x20 | 3;

/** One row of the table: its selector, its name, and the descriptor's fields. */
export interface GdtEntry {
  readonly selector: number;
  readonly name: string;
  readonly dpl: number;
  readonly code: boolean;
}

/** The descriptors after the null one, in table order. */
export const GDT_ENTRIES: readonly GdtEntry[] = [
  { selector: SEL_KCODE, name: 'kernel code', dpl: 0, code: true },
  { selector: SEL_KDATA, name: 'kernel data', dpl: 0, code: false },
  { selector: SEL_UCODE, name: 'user code', dpl: 3, code: true },
  { selector: SEL_UDATA, name: 'user data', dpl: 3, code: false },
];

/** Bytes of the table: the null descriptor and GDT_ENTRIES, 8 bytes each. */
export const GDT_BYTES = 8 * (GDT_ENTRIES.length + 1);

/** What gdtInit built: the table's linear address and the GDTR limit. */
export interface Gdt {
  readonly base: LinAddr;
  readonly limit: number;
}

/** flatDescriptor encodes a present, 32-bit, 4 KiB-granular segment covering all 4 GiB. */
function flatDescriptor(e: GdtEntry): [number, number] {
  const type = (e.code ? TYPE_CODE : 0) | TYPE_WRITABLE_OR_READABLE;
  return encodeDescriptor({ base: 0, limit: 0xfffff, type, dpl: e.dpl, big: true, granular: true });
}

/** gdtInit writes the flat GDT into a heap object, loads GDTR, and reloads every segment register from it. */
export function gdtInit(machine: Machine, heap: KernelHeap): Gdt {
  const base = heap.kmalloc(GDT_BYTES);
  if (base === null) throw new PagelabError('kernel: no heap memory for the GDT');
  machine.write32(base, 0);
  machine.write32(base + 4, 0);
  GDT_ENTRIES.forEach((e, i) => {
    const [lo, hi] = flatDescriptor(e);
    machine.write32(base + 8 * (i + 1), lo);
    machine.write32(base + 8 * (i + 1) + 4, hi);
  });
  const seg = machine.seg;
  seg.lgdt(base, GDT_BYTES - 1);
  seg.farJump(SEL_KCODE, 0); // ljmp $0x08, $1f: the offset is checked against a 4 GiB limit only
  for (const r of [DS, ES, FS, GS, SS] as const) seg.load(r, SEL_KDATA);
  if (seg.selector(CS) !== SEL_KCODE)
    throw new PagelabError(`kernel: CS is ${hex(seg.selector(CS))} after the far jump`);
  return { base, limit: GDT_BYTES - 1 };
}

/** gdtLines describes the table for the boot log. */
export function gdtLines(g: Gdt): string[] {
  return [
    `GDT at ${hex(g.base)} (limit ${hex(g.limit)}), a kernel-heap object: null, ` +
      GDT_ENTRIES.map((e) => `${e.name} ${hex(e.selector, 2)}`).join(', ') +
      ' (each flat: base 0, 4 GiB)',
    `CS=${hex(SEL_KCODE, 2)} after a far jump; DS, ES, FS, GS, SS=${hex(SEL_KDATA, 2)}`,
  ];
}

/** gdtJson is the table for `boot --json`: {base, limit, entries: [{selector, name, dpl, code}]}. */
export function gdtJson(g: Gdt): Record<string, unknown> {
  return { base: g.base, limit: g.limit, entries: GDT_ENTRIES };
}
