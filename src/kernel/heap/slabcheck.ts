// The slab layer's consistency check: the control page's sealed variables,
// the page bitmap, every slab header (its check word, count and bitmap), the
// red zones, the class descriptors and partial lists, and the counters must
// agree with each other and with the page tables. Returns the problems.

import { hex, lin } from '../../hw/addr.js';
import { PAGE } from './layout.js';
import type { HeapBackend } from './backend.js';
import type { Machine } from '../../hw/machine.js';
import { SLAB_CLASSES, SLAB_HDR, capacity, stride } from './slabclass.js';
import { SC } from './slabctl.js';
import { SH, type Slab } from './slabpage.js';

/** What the check reads of the slab layer: its addresses, control page, page map, slab headers and red zones. */
export interface SlabView {
  readonly machine: Machine;
  readonly backend: HeapBackend;
  readonly base: number;
  readonly limit: number;
  readonly redZone: boolean;
  get(off: number): number;
  controlProblem(): string | null;
  descProblem(cls: number): string | null;
  classField(cls: number, field: number): number;
  pageInUse(page: number): boolean;
  inspect(page: number): Slab | string;
  redZoneDamage(obj: number, cls: number): number;
}

interface ClassTally {
  slabs: number;
  objects: number;
  empty: number;
  partial: Map<number, number>;
}

/** checkSlabs lists every inconsistency of the slab layer (empty when sound). */
export function checkSlabs(heap: SlabView): string[] {
  const control = heap.controlProblem();
  if (control !== null) return [control];
  const problems: string[] = [];
  const tallies = SLAB_CLASSES.map((): ClassTally => ({ slabs: 0, objects: 0, empty: 0, partial: new Map() }));
  let frames = 1,
    bytes = 0;
  for (let page = heap.base + PAGE; page < scanLimit(heap); page += PAGE) {
    const mapped = heap.backend.mapping(lin(page)) !== null; // the kernel's own walk of its tables
    if (!heap.pageInUse(page)) {
      if (mapped) problems.push(`slab page ${hex(page)} is mapped but not in use`);
      continue;
    }
    frames++;
    if (!mapped) problems.push(`slab page ${hex(page)} is in use but not mapped`);
    else bytes += checkSlab(heap, page, tallies, problems);
  }
  tallies.forEach((t, cls) => checkClass(heap, cls, t, problems));
  if (heap.get(SC.FRAMES) !== frames)
    problems.push(`slab frames: control page says ${heap.get(SC.FRAMES)}, found ${frames}`);
  if (heap.get(SC.BYTES) !== bytes)
    problems.push(`slab bytes in use: control page says ${heap.get(SC.BYTES)}, found ${bytes}`);
  return problems;
}

/**
 * scanLimit is where the check stops looking at pages: 32 pages past the last page in use
 * (the page bitmap says nothing is in use above it; the pages just past it must be unmapped).
 */
function scanLimit(heap: SlabView): number {
  let last = heap.base;
  for (let w = 0; w * 32 * PAGE < heap.limit - heap.base; w++) {
    const bits = heap.get(SC.PAGEMAP + w * 4);
    if (bits !== 0) last = heap.base + (w * 32 + 31 - Math.clz32(bits)) * PAGE;
  }
  return Math.min(heap.limit, last + 32 * PAGE);
}

/** checkSlab validates one slab page (header, red zones) and adds it to its class's tally; returns its bytes in use. */
function checkSlab(heap: SlabView, page: number, tallies: ClassTally[], problems: string[]): number {
  const s = heap.inspect(page);
  if (typeof s === 'string') {
    problems.push(`slab ${hex(page)}: ${s}`);
    return 0;
  }
  const t = tallies[s.cls];
  const rz = s.rz;
  if (rz !== heap.redZone) problems.push(`slab ${hex(page)}: ${rz ? 'has' : 'lacks'} red zones, unlike the layer`);
  for (let i = 0; rz && i < capacity(s.cls, rz); i++) {
    const bad = heap.redZoneDamage(page + i * stride(s.cls, rz), s.cls);
    if (bad >= 0)
      problems.push(
        `slab ${hex(page)}: the red zone after object ${hex(page + i * stride(s.cls, rz))} is overwritten at ${hex(bad)}`,
      );
  }
  t.slabs++;
  t.objects += s.inuse;
  if (s.inuse === 0) t.empty++;
  if (s.inuse < capacity(s.cls, rz)) t.partial.set(page, s.prev);
  return s.inuse * SLAB_CLASSES[s.cls];
}

/** checkClass compares a class's descriptor and partial list with what the pages hold. */
function checkClass(heap: SlabView, cls: number, t: ClassTally, problems: string[]): void {
  const desc = heap.descProblem(cls);
  if (desc !== null) {
    problems.push(desc);
    return;
  }
  const fields: [string, number, number][] = [
    ['slabs', heap.classField(cls, SC.SLABS), t.slabs],
    ['objects', heap.classField(cls, SC.OBJECTS), t.objects],
    ['empty slabs', heap.classField(cls, SC.EMPTY), t.empty],
  ];
  for (const [name, kept, found] of fields)
    if (kept !== found) problems.push(`class ${SLAB_CLASSES[cls]}: ${name} ${kept}, found ${found}`);
  let prev = 0;
  const seen = new Set<number>();
  for (let p = heap.classField(cls, SC.PARTIAL); p !== 0; p = heap.machine.read32(p + SLAB_HDR + SH.NEXT)) {
    if (!t.partial.has(p) || seen.has(p)) {
      problems.push(
        `class ${SLAB_CLASSES[cls]}: partial list holds ${hex(p)}, not a partial slab of the class (or twice)`,
      );
      return;
    }
    if (t.partial.get(p) !== prev) problems.push(`slab ${hex(p)}: prev link is wrong`);
    seen.add(p);
    prev = p;
  }
  if (seen.size !== t.partial.size)
    problems.push(`class ${SLAB_CLASSES[cls]}: ${t.partial.size - seen.size} partial slab(s) missing from the list`);
}
