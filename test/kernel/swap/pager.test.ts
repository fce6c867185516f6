import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '../../../src/hw/addr.js';
import { ACCESS_READ, ACCESS_WRITE } from '../../../src/hw/fault.js';
import { kernelInit } from '../../../src/kernel/main.js';
import { createProcessKernel } from '../../../src/kernel/proc/proc.js';
import type { PagerPolicy } from '../../../src/kernel/swap/pager.js';
import { simulate } from '../../../src/tools/policy/simulate.js';
import { parseRefs } from '../../../src/tools/policy/refs.js';
import { fakeBoot } from '../fakeboot.js';
import { sampleElf, STACK_TOP } from '../proc/helpers.js';

const MAP = 0x40000000;
const RW = 3;
const STRING = '1w 2w 3w 4w 1r 2w 5w 1r 2r 3w 4r 5r 6w 1r 7w 2r 3r 6r 1w 8w 2r 4r 7r 5w 1r 3r 8r 6w 2r 1r';

/** boot brings up a process kernel with a budget of userFrames, execs the sample and maps 16 anonymous pages. */
function boot(policy: PagerPolicy, userFrames: number) {
  const info = fakeBoot({ ram: 32 << 20 });
  const kernel = kernelInit(info, { frames: 'bitmap', ptAccess: 'slot' });
  const pk = createProcessKernel(kernel, { swap: { userFrames, policy, file: null, slots: 64 } });
  const { pid } = pk.exec(sampleElf(), ['prog'], [], { stackTop: STACK_TOP });
  pk.switchTo(pid);
  expect(pk.mmap2(pid, MAP, 16 * PAGE_SIZE, RW)).toBe(MAP);
  return { pk, pid };
}

describe('the pager', () => {
  for (const policy of ['fifo', 'clock'] as const) {
    for (const frames of [3, 4]) {
      it(`${policy}, ${frames} frames: hits and misses as pagelab policy's, and every written word comes back`, () => {
        const probe = boot(policy, 64);
        const held = probe.pk.swapCounters()!.zeroFills + probe.pk.swapCounters()!.fileReads; // exec's pages
        probe.pk.closeSwap();
        expect(held).toBeGreaterThan(0);
        const { pk, pid } = boot(policy, held + frames);
        // exec's pages sit first in the ring, referenced once: the simulator gets as many pages never seen again
        const dummies = Array.from({ length: held }, (_, i) => `${100 + i}w`).join(' ');
        const want: boolean[] = [];
        simulate(parseRefs(`${dummies} ${STRING}`, 'test'), held + frames, policy, { seed: 1, tick: 1 }, (s) => {
          if (s.index > held) want.push(s.hit);
        });
        const got: boolean[] = [];
        const model = new Map<number, number>();
        STRING.split(' ').forEach((t, i) => {
          const a = MAP + Number(t.slice(0, -1)) * PAGE_SIZE + 4 * i;
          const before = pk.swapCounters()!;
          if (t.endsWith('w')) {
            pk.access(pid, a, 4, ACCESS_WRITE, 0x1000 + i);
            model.set(a, 0x1000 + i);
          } else expect(pk.access(pid, a, 4, ACCESS_READ)).toBe(model.get(a) ?? 0);
          const after = pk.swapCounters()!;
          got.push(after.zeroFills + after.swapIns === before.zeroFills + before.swapIns);
        });
        expect(got).toEqual(want);
        const c = pk.swapCounters()!;
        expect(c.pageOuts).toBeGreaterThan(0);
        expect(c.swapIns).toBeGreaterThan(0);
        expect(c.majorFaults).toBe(c.swapIns);
        expect(c.swap.bytesWritten).toBe(c.pageOuts * PAGE_SIZE);
        expect(c.swap.bytesRead).toBe(c.swapIns * PAGE_SIZE);
        if (policy === 'clock') expect(c.clockInvlpgs).toBeGreaterThan(0);
        expect(pk.audit()).toEqual([]);
        pk.exit(pid, 0);
        expect(pk.swapCounters()!.swap.used).toBe(0);
        expect(pk.frames().freeNow).toBe(pk.frames().freeBefore);
        pk.closeSwap();
      });
    }
  }

  it('gives a forked child the parent swapped-out pages, each side reading its own bytes back', () => {
    const { pk, pid } = boot('fifo', 12);
    for (let p = 0; p < 16; p++) pk.access(pid, MAP + p * PAGE_SIZE, 4, ACCESS_WRITE, 0xa000 + p);
    expect(pk.swapCounters()!.swap.used).toBeGreaterThan(0);
    const child = pk.fork(pid);
    expect(child).toBeGreaterThan(0);
    pk.switchTo(child);
    for (let p = 0; p < 16; p++) pk.access(child, MAP + p * PAGE_SIZE, 4, ACCESS_WRITE, 0xc000 + p);
    for (let p = 0; p < 16; p++) expect(pk.access(child, MAP + p * PAGE_SIZE, 4, ACCESS_READ)).toBe(0xc000 + p);
    pk.switchTo(pid);
    for (let p = 0; p < 16; p++) expect(pk.access(pid, MAP + p * PAGE_SIZE, 4, ACCESS_READ)).toBe(0xa000 + p);
    expect(pk.swapCounters()!.overBudget).toBeGreaterThan(0); // the shared frames could not go
    expect(pk.audit()).toEqual([]);
    pk.exit(child, 0);
    pk.exit(pid, 0);
    expect(pk.swapCounters()!.swap.used).toBe(0);
    expect(pk.frames().freeNow).toBe(pk.frames().freeBefore);
    pk.closeSwap();
  });

  it('detects a slot changed in the swap file on swap-in, with an error naming the slot', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pagelab-pagertest-'));
    const file = path.join(dir, 'swap');
    const info = fakeBoot({ ram: 32 << 20 });
    const kernel = kernelInit(info, { frames: 'bitmap', ptAccess: 'slot' });
    const pk = createProcessKernel(kernel, { swap: { userFrames: 8, policy: 'fifo', file, slots: 64 } });
    const { pid } = pk.exec(sampleElf(), ['prog'], [], { stackTop: STACK_TOP });
    pk.switchTo(pid);
    pk.mmap2(pid, MAP, 16 * PAGE_SIZE, RW);
    for (let p = 0; p < 16; p++) pk.access(pid, MAP + p * PAGE_SIZE, 4, ACCESS_WRITE, 0xa000 + p);
    expect(pk.swapCounters()!.pageOuts).toBeGreaterThan(0);
    const fd = fs.openSync(file, 'r+');
    const used = pk.swapCounters()!.swap.peakUsed;
    for (let slot = 0; slot < used; slot++) fs.writeSync(fd, Uint8Array.of(0x77), 0, 1, slot * PAGE_SIZE + 8);
    fs.closeSync(fd);
    expect(() => {
      for (let p = 0; p < 16; p++) pk.access(pid, MAP + p * PAGE_SIZE, 4, ACCESS_READ);
    }).toThrow(/swap slot \d+ changed on disk \(checksum 0x[0-9a-f]{8}, written 0x[0-9a-f]{8}\)/);
    pk.closeSwap();
    fs.rmSync(dir, { recursive: true });
  });
});
