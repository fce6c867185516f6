// Corrupted kernel memory: a descriptor's, a region record's or a reference count's word changed in RAM
// is detected where the kernel reads it (ProcError 'corrupted', state unchanged) or followed as C would,
// and audit() reports what it left behind.
import { describe, expect, it } from 'vitest';
import { ACCESS_READ, ACCESS_WRITE } from '../../../src/hw/fault.js';
import { FRAME_MASK } from '../../../src/hw/paging.js';
import type { LinAddr } from '../../../src/hw/addr.js';
import { ProcError } from '../../../src/kernel/proc/api.js';
import { P_MAGIC, P_PID, P_REGIONS, REFCOUNT_BASE, V_MAGIC } from '../../../src/kernel/proc/layout.js';
import { DATA, rig, start, type Rig } from './helpers.js';

/** descOf finds a process's descriptor address from the process table in RAM (record word 2). */
function descOf(r: Rig, pid: number): number {
  r.pk.kernelMode();
  const m = r.kernel.core.machine;
  for (let a = 0xd0000000; a < 0xd0100000; a += 16) {
    if (r.kernel.vm.kernel.translate((a & ~0xfff) as LinAddr) === null) break;
    if (m.read32(a + P_MAGIC) === 0x434f5250 && m.read32(a + P_PID) === pid) return a;
  }
  throw new Error(`no descriptor for ${pid}`);
}

function countAt(frame: number): number {
  return REFCOUNT_BASE + (frame / 4096) * 4;
}

function frameOf(r: Rig, page: number): number {
  r.pk.kernelMode();
  return (r.kernel.vm.current.translate(page as LinAddr)! & FRAME_MASK) >>> 0;
}

describe('corruption of the process kernel in RAM', () => {
  it("a descriptor's magic or pid changed is detected on the next call, nothing changed", () => {
    const r = rig();
    const pid = start(r);
    const d = descOf(r, pid);
    const m = r.kernel.core.machine;
    m.write32(d + P_MAGIC, 0x12345678);
    expect(() => r.pk.brk(pid, 0)).toThrow(/descriptor .* magic 0x12345678/);
    expect(() => r.pk.fork(pid)).toThrow(ProcError);
    expect(r.pk.pids()).toEqual([pid]);
    m.write32(d + P_MAGIC, 0x434f5250);
    m.write32(d + P_PID, pid + 5);
    expect(() => r.pk.exit(pid, 0)).toThrow(/holds pid/);
    expect(r.pk.audit().join()).toMatch(/holds pid/);
    m.write32(d + P_PID, pid);
    expect(r.pk.audit()).toEqual([]);
  });

  it("a region record's magic or a looping list is detected by the fault handler", () => {
    const r = rig();
    const pid = start(r);
    const d = descOf(r, pid);
    const m = r.kernel.core.machine;
    const first = m.read32(d + P_REGIONS);
    m.write32(first + V_MAGIC, 0);
    expect(() => r.pk.access(pid, DATA, 4, ACCESS_READ)).toThrow(/record at .* has magic 0x00000000/);
    r.pk.kernelMode();
    m.write32(first + V_MAGIC, 0x5f414d56);
    m.write32(first + 4, first); // next -> itself
    expect(() => r.pk.regions(pid)).toThrow(/does not end/);
    expect(() => r.pk.access(pid, DATA + 0x1000, 4, ACCESS_READ)).toThrow(/does not end/); // past the first
  });

  it('a mapped frame whose count reads 0 is corruption: the COW fault stops, nothing freed', () => {
    const r = rig();
    const a = start(r);
    r.pk.access(a, DATA, 4, ACCESS_WRITE, 1);
    const f = frameOf(r, DATA);
    r.pk.fork(a);
    const m = r.kernel.core.machine;
    m.write32(countAt(f), 0);
    const free = r.pk.frames().freeNow;
    expect(() => r.pk.access(a, DATA, 4, ACCESS_WRITE, 2)).toThrow(/reference count of frame .* is 0/);
    expect(r.pk.frames().freeNow).toBe(free);
    expect(r.pk.audit().join()).toMatch(/reference count 0, 2 user PTEs map it/);
  });

  it('a count too high is followed as C would: a copy instead of a take-over, the frame leaks, audit names it', () => {
    const r = rig();
    const a = start(r);
    r.pk.access(a, DATA, 4, ACCESS_WRITE, 1);
    const f = frameOf(r, DATA);
    r.pk.fork(a);
    r.pk.kernelMode();
    r.kernel.core.machine.write32(countAt(f), 3);
    r.pk.switchTo(a);
    r.pk.access(a, DATA, 4, ACCESS_WRITE, 2); // copies (count 3 -> 2)
    expect(r.pk.totals().cowCopies).toBe(1);
    const pids = r.pk.pids();
    r.pk.switchTo(pids[1]);
    r.pk.access(pids[1], DATA, 4, ACCESS_WRITE, 3); // count 2: copies again, where a count of 1 would take over
    expect(r.pk.totals()).toMatchObject({ cowCopies: 2, cowTakeovers: 0 });
    expect(r.pk.audit()).toContain(
      `frame 0x${f.toString(16).toUpperCase().padStart(8, '0')}: reference count 1, 0 user PTEs map it`,
    );
    const before = r.pk.frames().freeBefore;
    for (const pid of r.pk.pids()) r.pk.exit(pid, 0);
    expect(r.pk.frames().freeNow).toBe(before - 1); // the leaked frame
  });
});
