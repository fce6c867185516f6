// The K&R heap's consistency check (a debugging walk, like a malloc's
// "check heap" mode): every header, the free list, the holes, the mappings
// and the statistics in the control block must agree. Returns the problems.

import { hex, lin, pageAlignDown } from '../../hw/addr.js';
import { PTE_RW, PTE_US } from '../../hw/paging.js';
import { readFree, readUsed } from './header.js';
import { interior } from './krblock.js';
import { CB, type KrView } from './krcontrol.js';
import { PAGE, UNIT } from './layout.js';

interface Tally {
  blocks: number;
  units: number;
  bytes: number;
}

/** checkKrHeap lists every inconsistency in the heap's memory (empty when sound). */
export function checkKrHeap(heap: KrView): string[] {
  const problems: string[] = [];
  const brk = heap.brk;
  const control = heap.controlProblem();
  if (control !== null) return [control];
  const free = freeList(heap, brk, problems);
  if (problems.length > 0) return problems;
  const tally = walkBlocks(heap, brk, free, problems);
  const counters: [string, number, number][] = [
    ['blocks in use', heap.get(CB.BLOCKS), tally.blocks],
    ['units in use', heap.get(CB.UNITS), tally.units],
    ['bytes in use', heap.get(CB.BYTES), tally.bytes],
    ['frames held', heap.get(CB.FRAMES), mappedPages(heap, brk, problems)],
  ];
  for (const [name, kept, found] of counters)
    if (kept !== found) problems.push(`${name}: control block says ${kept}, the heap has ${found}`);
  if (!free.has(heap.freep) && heap.freep !== heap.base)
    problems.push(`freep ${hex(heap.freep)} is not on the free list`);
  return problems;
}

/** freeList walks the free list from K&R's base block; returns its blocks (address -> size in units). */
function freeList(heap: KrView, brk: number, problems: string[]): Map<number, number> {
  const m = heap.machine;
  const out = new Map<number, number>();
  let prevEnd = heap.arena;
  const base = readFree(m, heap.base);
  if (base === null) {
    problems.push('the base block header fails its check');
    return out;
  }
  for (let p = base.next; p !== heap.base;) {
    const h = p >= prevEnd && p < brk && p % UNIT === 0 && isMapped(heap, p) ? readFree(m, p) : null;
    if (h === null) {
      problems.push(`free list: bad block ${hex(p)} (out of order, outside the arena or a failed check)`);
      return out;
    }
    if (p === prevEnd && out.size > 0)
      problems.push(`free blocks ${hex(p)} and the one before it are adjacent, not coalesced`);
    if (h.size === 0 || p + h.size * UNIT > brk)
      problems.push(`free block ${hex(p)}: size ${h.size} units runs past the break`);
    checkHole(heap, p, p + h.size * UNIT, h.holed, problems);
    out.set(p, h.size);
    prevEnd = p + h.size * UNIT;
    p = h.next;
  }
  return out;
}

/** checkHole requires a holed free block's interior pages unmapped and any other free block's pages mapped. */
function checkHole(heap: KrView, a: number, end: number, holed: boolean, problems: string[]): void {
  const [i0, i1] = interior(a, end);
  if (holed && i1 === i0) problems.push(`free block ${hex(a)} is marked holed but has no whole page inside`);
  for (let page = i0; page < i1; page += PAGE) {
    if (isMapped(heap, page) === holed)
      problems.push(`free block ${hex(a)}: page ${hex(page)} is ${holed ? 'mapped inside its hole' : 'unmapped'}`);
  }
}

/** walkBlocks steps over every block from the arena to the break, tallying the allocated ones. */
function walkBlocks(heap: KrView, brk: number, free: Map<number, number>, problems: string[]): Tally {
  const tally: Tally = { blocks: 0, units: 0, bytes: 0 };
  let a = heap.arena;
  while (a < brk) {
    const freeSize = free.get(a);
    if (freeSize !== undefined) {
      a += freeSize * UNIT;
      continue;
    }
    const h = isMapped(heap, a) ? readUsed(heap.machine, a) : null;
    if (h === null) {
      problems.push(`block ${hex(a)}: neither free nor a valid allocated header`);
      return tally;
    }
    tally.blocks++;
    tally.units += h.size;
    tally.bytes += h.requested;
    a += h.size * UNIT;
  }
  if (a !== brk) problems.push(`the last block ends at ${hex(a)}, past the break ${hex(brk)}`);
  return tally;
}

/** mappedPages counts the mapped heap pages (kernel-only and writable, as required) and finds none above the break. */
function mappedPages(heap: KrView, brk: number, problems: string[]): number {
  let n = 0;
  for (let page = heap.base; page < brk; page += PAGE) {
    const m = heap.backend.mapping(lin(page));
    if (m === null) continue;
    n++;
    if ((m.flags & PTE_US) !== 0 || (m.flags & PTE_RW) === 0)
      problems.push(`page ${hex(page)} is not mapped kernel-only read/write`);
  }
  for (let page = brk; page < Math.min(heap.limit, brk + 16 * PAGE); page += PAGE) {
    if (isMapped(heap, page)) problems.push(`page ${hex(page)} above the break is mapped`);
  }
  return n;
}

/** isMapped says whether the kernel's page tables map the page of `addr` (its own walk, read-only). */
function isMapped(heap: KrView, addr: number): boolean {
  return heap.backend.mapping(lin(pageAlignDown(addr))) !== null;
}
