// Who owns each physical frame of the booted machine: free (the frame
// allocator says so, reading its bitmap in RAM), the kernel image, page
// tables (the kernel directory and the tables its PDEs name), the heap and
// user pages (what the kernel's PTEs map there), the multiboot data and
// modules, the allocator's own metadata, reserved (firmware, the hole), or
// otherwise in use.

import { phys } from '../../src/hw/addr.js';
import { HEAP_BASE, HEAP_LIMIT } from '../../src/kernel/vm/layout.js';
import { forEachLeaf, scanDirectory } from '../../src/tools/inspect/scan.js';
import type { Session } from './session.js';

export const KINDS = [
  ['free', 'free'],
  ['kernel', 'kernel image'],
  ['table', 'page directory or table'],
  ['heap', 'kernel heap'],
  ['user', 'user pages'],
  ['multiboot', 'multiboot data and modules'],
  ['meta', 'frame allocator metadata'],
  ['reserved', 'reserved or not RAM'],
  ['used', 'in use (other)'],
] as const;

export type FrameKind = (typeof KINDS)[number][0];
const CODE = Object.fromEntries(KINDS.map(([k], i) => [k, i])) as Record<FrameKind, number>;

/** mark sets the kind of the frames covering [base, base+length). */
function mark(map: Uint8Array, base: number, length: number, kind: FrameKind): void {
  const last = Math.min(map.length, Math.ceil((base + length) / 4096));
  for (let f = Math.floor(base / 4096); f < last; f++) map[f] = CODE[kind];
}

/** baseKinds: reserved where there is no RAM, free where the allocator says so, else in use. */
function baseKinds(s: Session, map: Uint8Array): void {
  const mem = s.machine.mem;
  const frames = s.report.kernel.frames;
  for (let f = 0; f < map.length; f++) {
    const p = f * 4096;
    map[f] = !mem.isRam(p) ? CODE.reserved : frames.isFree(phys(p)) ? CODE.free : CODE.used;
  }
  for (const e of s.result.info.memoryMap)
    if (e.type !== 1 && e.base < 2 ** 32) mark(map, e.base, e.length, 'reserved');
}

/** frameMap classifies every frame of RAM (the array's index is the frame number). */
export function frameMap(s: Session): Uint8Array {
  const info = s.result.info;
  const map = new Uint8Array(Math.ceil(s.machine.mem.top / 4096));
  baseKinds(s, map);
  for (const r of info.reserved) mark(map, r.base, r.length, r.what === 'kernel image' ? 'kernel' : 'multiboot');
  const meta = s.report.kernel.frames.metadata;
  mark(map, meta.base, meta.frames * 4096, 'meta');
  const m = s.machine.mmu;
  const view = scanDirectory(
    { size: s.machine.mem.top, read32: (p) => s.machine.mem.read32(p) >>> 0, write32: () => undefined },
    { cr0: m.cr0, cr3: m.cr3, cr4: m.cr4 },
  );
  mark(map, view.dirAddr, 4096, 'table');
  for (const pde of view.pdes) if (pde.table !== null) mark(map, pde.table, 4096, 'table');
  forEachLeaf(view, (leaf) => {
    if (leaf.linear >= HEAP_BASE && leaf.linear < HEAP_LIMIT) mark(map, leaf.phys, leaf.size, 'heap');
    else if (leaf.user) mark(map, leaf.phys, leaf.size, 'user');
  });
  return map;
}
