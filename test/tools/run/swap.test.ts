import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PAGE_SIZE } from '../../../src/hw/addr.js';
import { runLogs } from '../../../src/tools/run/run.js';
import { pagerOptions } from '../../../src/tools/run/swap.js';

const DIR = 'test/programs/logs';
const logsOf = (p: string): string[] =>
  readdirSync(DIR)
    .filter((f) => f.startsWith(`${p}.`))
    .map((f) => join(DIR, f));

describe('pagelab run with a frame budget', () => {
  const cases = [
    { prog: 'compute', userFrames: 12, policy: 'fifo' },
    { prog: 'compute', userFrames: 12, policy: 'clock' },
    { prog: 'malloc', userFrames: 32, policy: 'clock', swapSize: 4 << 20 },
    { prog: 'fork', userFrames: 16, policy: 'fifo' },
    { prog: 'fork', userFrames: 16, policy: 'clock' },
  ];
  for (const c of cases) {
    it(`${c.prog} in ${c.userFrames} frames (${c.policy}): --verify clean, pages out and in, nothing left over`, async () => {
      const free = await runLogs(logsOf(c.prog), { verify: true });
      expect(free.json.swap).toBeUndefined();
      const { json } = await runLogs(logsOf(c.prog), { verify: true, ...c });
      expect(json.verify?.mismatches).toBe(0);
      expect(json.verify?.loads).toBe(free.json.verify?.loads);
      expect(json.processes.map((p) => p.exitCode)).toEqual(free.json.processes.map((p) => p.exitCode));
      expect(Math.max(...free.json.processes.map((p) => p.maxResident))).toBeGreaterThan(2 * c.userFrames);
      expect(json.userFrames).toBe(c.userFrames);
      expect(json.policy).toBe(c.policy);
      const t = json.totals;
      expect(t.pageOuts).toBeGreaterThan(0);
      expect(t.swapIns).toBeGreaterThan(0);
      expect(t.zeroFills! + t.fileReads! + t.swapIns!).toBe(t.pageIns);
      expect(t.majorFaults).toBe(t.swapIns);
      expect(t.majorFaults! + t.minorFaults!).toBe(t.pageFaults); // no process is killed: every fault resolved
      expect(json.swap?.bytesWritten).toBe(t.pageOuts! * PAGE_SIZE);
      expect(json.swap?.bytesRead).toBe(t.swapIns! * PAGE_SIZE);
      expect(json.swap?.slots).toBe((c.swapSize ?? 2 * c.userFrames * PAGE_SIZE) / PAGE_SIZE);
      expect(json.swap?.usedAtEnd).toBe(0);
      expect(json.frames.freeAfter).toBe(json.frames.freeBefore);
      if (c.prog !== 'fork') expect(Math.max(...json.processes.map((p) => p.maxResident))).toBe(c.userFrames);
      else expect(t.overBudget).toBeGreaterThan(0); // frames shared after fork are not evicted
      if (c.policy === 'clock') expect(t.clockInvlpgs).toBeGreaterThan(0);
    }, 60_000);
  }

  it('writes the swap file it is given, of --swap-size bytes; a temporary one is gone after the run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pagelab-swaptest-'));
    const file = join(dir, 'swapfile');
    const before = readdirSync(tmpdir()).filter((f) => f.startsWith('pagelab-swap-')).length;
    const { json } = await runLogs(logsOf('compute'), { userFrames: 12, swap: file, swapSize: 1 << 20 });
    expect(json.swap?.file).toBe(file);
    expect(statSync(file).size).toBeGreaterThan(0);
    expect(statSync(file).size).toBeLessThanOrEqual(1 << 20);
    await runLogs(logsOf('compute'), { userFrames: 12 });
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith('pagelab-swap-')).length).toBe(before);
    rmSync(dir, { recursive: true });
  }, 60_000);

  it('refuses options that make no sense, naming them', () => {
    expect(() => pagerOptions({ swap: 'f' })).toThrow('--swap needs --user-frames N');
    expect(() => pagerOptions({ policy: 'fifo' })).toThrow('--policy needs --user-frames N');
    expect(() => pagerOptions({ userFrames: 2 })).toThrow('--user-frames 2: expected a whole number >= 4');
    expect(() => pagerOptions({ userFrames: 8, policy: 'lru' })).toThrow(/lru: not in the kernel yet/);
    expect(() => pagerOptions({ userFrames: 8, policy: 'nope' })).toThrow(/nope: unknown/);
    expect(() => pagerOptions({ userFrames: 8, swapSize: 1000 })).toThrow(/--swap-size 1000/);
    expect(pagerOptions({ userFrames: 8 })).toEqual({ userFrames: 8, policy: 'clock', file: null, slots: 16 });
  });
});
