import { describe, expect, it } from 'vitest';
import { ACCESS_READ, ACCESS_WRITE } from '../../../src/hw/fault.js';
import { FRAME_MASK, PTE_RW } from '../../../src/hw/paging.js';
import type { LinAddr } from '../../../src/hw/addr.js';
import { REFCOUNT_BASE } from '../../../src/kernel/proc/layout.js';
import { DATA, rig, start, type Rig } from './helpers.js';

const PAGE = DATA + 0x2000; // a .bss page

/** frameOf reads which frame maps a page in pid's space, and its PTE. */
function pteOf(r: Rig, pid: number, page: number): { frame: number; pte: number } {
  r.pk.kernelMode();
  const space = r.kernel.vm.all.find((s) => s.directory === spaceDir(r, pid))!;
  const w = space.walk(page as LinAddr);
  return { frame: (w.pte!.value & FRAME_MASK) >>> 0, pte: w.pte!.value };
}

/** spaceDir finds a process's directory: the space that is current while it runs. */
function spaceDir(r: Rig, pid: number): number {
  const cur = r.pk.current;
  r.pk.switchTo(pid);
  const d = r.kernel.vm.current.directory;
  if (cur !== 0) r.pk.switchTo(cur);
  return d;
}

/** count reads a frame's reference count from the array in RAM (through the kernel mapping). */
function count(r: Rig, frame: number): number {
  r.pk.kernelMode();
  return r.kernel.core.machine.read32(REFCOUNT_BASE + (frame / 4096) * 4);
}

describe('fork with copy-on-write', () => {
  it('shares pages read-only, counts them, and gives each writer its own copy', () => {
    const r = rig();
    const parent = start(r);
    r.pk.access(parent, PAGE, 4, ACCESS_WRITE, 0x1111);
    const child = r.pk.fork(parent);
    expect(child).toBeGreaterThan(parent);
    const p0 = pteOf(r, parent, PAGE);
    const c0 = pteOf(r, child, PAGE);
    expect(c0.frame).toBe(p0.frame);
    expect(p0.pte & PTE_RW).toBe(0);
    expect(c0.pte & PTE_RW).toBe(0);
    expect(count(r, p0.frame)).toBe(2);
    expect(r.pk.stats(child)).toMatchObject({ parent, resident: r.pk.stats(parent).resident });

    r.pk.switchTo(parent);
    expect(r.pk.access(parent, PAGE, 4, ACCESS_READ)).toBe(0x1111); // read: no copy
    r.pk.access(parent, PAGE, 4, ACCESS_WRITE, 0x2222);
    r.pk.switchTo(child);
    expect(r.pk.access(child, PAGE, 4, ACCESS_READ)).toBe(0x1111);
    r.pk.access(child, PAGE, 4, ACCESS_WRITE, 0x3333); // count 1 now: taken over
    r.pk.switchTo(parent);
    expect(r.pk.access(parent, PAGE, 4, ACCESS_READ)).toBe(0x2222);
    r.pk.switchTo(child);
    expect(r.pk.access(child, PAGE, 4, ACCESS_READ)).toBe(0x3333);

    const p1 = pteOf(r, parent, PAGE);
    const c1 = pteOf(r, child, PAGE);
    expect(p1.frame).not.toBe(p0.frame);
    expect(c1.frame).toBe(p0.frame); // the child took the original over
    expect([count(r, p1.frame), count(r, c1.frame)]).toEqual([1, 1]);
    expect(r.pk.totals()).toMatchObject({ cowCopies: 1, cowTakeovers: 1 });
    expect(r.pk.stats(parent).faults.cow + r.pk.stats(child).faults.cow).toBe(2);
    expect(r.pk.audit()).toEqual([]);
  });

  it('a kernel copy-out into a shared page breaks COW (the case read() into a shared page makes)', () => {
    const r = rig();
    const parent = start(r);
    r.pk.access(parent, PAGE, 4, ACCESS_WRITE, 0xaaaa);
    const child = r.pk.fork(parent);
    r.pk.switchTo(child);
    expect(r.pk.copyOut(child, PAGE + 2, Uint8Array.of(1, 2, 3))).toBe(0);
    expect(r.pk.access(child, PAGE, 4, ACCESS_READ)).toBe(0x0201aaaa);
    r.pk.switchTo(parent);
    expect(r.pk.access(parent, PAGE, 4, ACCESS_READ)).toBe(0xaaaa);
    expect(r.events.some((e) => e.type === 'fault' && e.kind === 'cow' && e.kernel)).toBe(true);
    expect(r.pk.audit()).toEqual([]);
  });

  it('a fork tree writing shared pages exits back to the frames it started with', () => {
    const r = rig();
    const free0 = r.pk.frames().freeBefore;
    const a = start(r);
    for (let i = 0; i < 5; i++) r.pk.access(a, DATA + i * 4096, 4, ACCESS_WRITE, i);
    const b = r.pk.fork(a);
    const c = r.pk.fork(b);
    for (const [pid, v] of [
      [b, 100],
      [c, 200],
      [a, 300],
    ] as const) {
      r.pk.switchTo(pid);
      for (let i = 0; i < 5; i += 2) r.pk.access(pid, DATA + i * 4096, 4, ACCESS_WRITE, v + i);
    }
    for (const [pid, v] of [
      [b, 100],
      [c, 200],
      [a, 300],
    ] as const) {
      r.pk.switchTo(pid);
      for (let i = 0; i < 5; i++)
        expect(r.pk.access(pid, DATA + i * 4096, 4, ACCESS_READ)).toBe(i % 2 === 0 ? v + i : i);
    }
    expect(r.pk.audit()).toEqual([]);
    expect(r.events.filter((e) => e.type === 'fork')).toEqual([
      { type: 'fork', parent: a, child: b },
      { type: 'fork', parent: b, child: c },
    ]);
    r.pk.exit(b, 1);
    expect(r.pk.audit()).toEqual([]);
    r.pk.exit(a, 0);
    r.pk.exit(c, 2);
    expect(r.pk.frames().freeNow).toBe(free0);
    expect(r.kernel.vm.audit()).toEqual([]);
  });
});
