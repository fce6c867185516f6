import { describe, expect, it } from 'vitest';
import { ACCESS_READ, ACCESS_WRITE } from '../../../src/hw/fault.js';
import { CR4_PGE, PF_P, PF_U, PF_W, PTE_G, PTE_P } from '../../../src/hw/paging.js';
import type { LinAddr, PhysAddr } from '../../../src/hw/addr.js';
import { ACCESS_KILLED } from '../../../src/kernel/proc/api.js';
import { DATA, STACK_TOP, TEXT, rig, sampleElf, start } from './helpers.js';

const MiB = 1024 * 1024;

describe('stack growth', () => {
  it('grows page by page down to 8 MiB below the top, as stack faults', () => {
    const r = rig();
    const pid = start(r);
    const low = r.pk.regions(pid).find((v) => v.kind === 'stack')!.start;
    const before = r.pk.stats(pid).faults.stack;
    r.pk.access(pid, low - 4, 4, ACCESS_WRITE, 1);
    r.pk.access(pid, STACK_TOP - 8 * MiB, 4, ACCESS_WRITE, 2); // the last page the limit allows
    expect(r.pk.access(pid, STACK_TOP - 8 * MiB, 4, ACCESS_READ)).toBe(2);
    expect(r.pk.regions(pid).find((v) => v.kind === 'stack')!.start).toBe(STACK_TOP - 8 * MiB);
    expect(r.pk.stats(pid).faults.stack - before).toBe(2);
    expect(r.pk.audit()).toEqual([]);
  });

  it('kills a process that runs past the limit, reported as such', () => {
    const r = rig();
    const pid = start(r);
    const addr = STACK_TOP - 8 * MiB - 4;
    expect(r.pk.access(pid, addr, 4, ACCESS_WRITE, 1)).toBe(ACCESS_KILLED);
    expect(r.pk.stats(pid).killed).toEqual({
      address: addr,
      errorCode: PF_U | PF_W,
      reason: 'stack limit',
      region: 'no region',
    });
    expect(r.pk.stats(pid).faults.protection).toBe(1);
  });
});

describe('isolation', () => {
  it('CPL 3 cannot touch the kernel half: #PF with U/S, killed, the others go on', () => {
    const r = rig();
    const a = start(r);
    r.pk.access(a, DATA, 4, ACCESS_WRITE, 0xa);
    const b = r.pk.fork(a);
    r.pk.switchTo(b);
    expect(r.pk.access(b, 0xc0001000, 4, ACCESS_READ)).toBe(ACCESS_KILLED); // present kernel page
    expect(r.pk.stats(b).killed).toMatchObject({
      address: 0xc0001000,
      errorCode: PF_P | PF_U,
      reason: 'kernel address',
    });
    expect(r.events.at(-1)).toMatchObject({ type: 'kill', pid: b, reason: 'kernel address' });
    r.pk.switchTo(a);
    expect(r.pk.access(a, DATA, 4, ACCESS_READ)).toBe(0xa);
    expect(r.pk.access(a, 0xd8000000, 4, ACCESS_WRITE, 1)).toBe(ACCESS_KILLED); // absent kernel page
    expect(r.pk.stats(a).killed).toMatchObject({ errorCode: PF_U | PF_W, reason: 'kernel address' });
    expect(r.pk.frames().freeNow).toBe(r.pk.frames().freeBefore);
  });

  it('a read-only page cannot be written', () => {
    const r = rig();
    const pid = start(r);
    expect(r.pk.access(pid, TEXT + 8, 4, ACCESS_READ)).not.toBe(ACCESS_KILLED);
    expect(r.pk.access(pid, TEXT + 8, 4, ACCESS_WRITE, 0)).toBe(ACCESS_KILLED);
    expect(r.pk.stats(pid).killed).toEqual({
      address: TEXT + 8,
      errorCode: PF_P | PF_W | PF_U,
      reason: 'write to read-only',
      region: '0x08048000-0x0804A000 r-x file',
    });
  });

  it("a process never sees another process's data, nor a freed frame's", () => {
    const r = rig({ ram: 8 << 20 });
    const a = start(r);
    for (let i = 0; i < 5; i++) r.pk.access(a, DATA + i * 4096, 4, ACCESS_WRITE, 0x5ec12e7);
    for (let off = 0; off < 4096; off += 4) r.pk.access(a, DATA + 0x3000 + off, 4, ACCESS_WRITE, 0x5ec12e7);
    r.pk.kernelMode();
    const framesOf = (): number[] =>
      [0, 1, 2, 3, 4].map((i) => r.kernel.vm.current.translate((DATA + i * 4096) as LinAddr) ?? -1);
    const aFrames = framesOf();
    r.pk.exit(a, 0);
    const b = start(r);
    const c = r.pk.fork(b);
    // b's pages are all fresh: zero where a wrote its secret
    for (let i = 2; i < 5; i++) expect(r.pk.access(b, DATA + i * 4096, 4, ACCESS_READ)).toBe(0);
    for (let off = 0; off < 4096; off += 4) expect(r.pk.access(b, DATA + 0x3000 + off, 4, ACCESS_READ)).toBe(0);
    r.pk.kernelMode();
    expect(framesOf().filter((f) => aFrames.includes(f)).length).toBeGreaterThan(0); // a's frames, reused
    r.pk.access(b, DATA + 0x4000, 4, ACCESS_WRITE, 0xbbbb);
    r.pk.switchTo(c);
    expect(r.pk.access(c, DATA + 0x4000, 4, ACCESS_READ)).toBe(0); // b touched it after the fork: c's own zero page
  });

  it('an access by a process that is not current is refused, changing nothing', () => {
    const r = rig();
    const a = start(r);
    const { pid: b } = r.pk.exec(sampleElf(), ['b'], [], { stackTop: STACK_TOP });
    expect(() => r.pk.access(b, DATA, 4, ACCESS_READ)).toThrow(/not current/);
    expect(() => r.pk.access(99, DATA, 4, ACCESS_READ)).toThrow(/not current/);
    expect(r.pk.stats(b).accesses).toBe(0);
    expect(r.pk.current).toBe(a);
  });
});

describe('switching', () => {
  for (const pge of [true, false])
    it(`kernel pages ${pge ? 'survive' : 'do not survive'} a switch between processes with CR4.PGE ${pge ? 'on' : 'off'}`, () => {
      const r = rig({ tlb: 'fa:64' });
      const m = r.kernel.core.machine;
      if (!pge) m.mmu.writeCr4(m.mmu.cr4 & ~CR4_PGE);
      const a = start(r);
      const b = r.pk.fork(a);
      r.pk.kernelMode();
      const kernelPages = [0xc0100000, 0xc0101000, 0xc0102000];
      for (const p of kernelPages) m.read32(p);
      const before = m.mmu.misses;
      r.pk.switchTo(b);
      r.pk.switchTo(a);
      r.pk.kernelMode();
      const walks = m.mmu.misses;
      for (const p of kernelPages) m.read32(p);
      expect(m.mmu.misses - walks).toBe(pge ? 0 : kernelPages.length);
      expect(walks).toBeGreaterThan(before); // the user pages' walks after the switches
      expect(r.pk.totals().contextSwitches).toBe(3);
      expect(r.events.flatMap((e) => (e.type === 'switch' ? [[e.from, e.to]] : []))).toEqual([
        [0, a],
        [a, b],
        [b, a],
      ]);
    });

  it('with globalKernel false the kernel sets neither CR4.PGE nor G, so its pages are walked again after a switch', () => {
    const r = rig({ tlb: 'fa:64', globalKernel: false });
    const m = r.kernel.core.machine;
    expect(m.mmu.pge).toBe(false);
    const k = r.kernel.vm;
    const global = [0xc0100000, 0xc0101000, 0xc0102000].filter((p) => {
      const pde = k.pt.readPde(r.kernel.core.directory, p >>> 22);
      const table = ((pde & ~0xfff) >>> 0) as PhysAddr;
      const pte = k.pt.readPte(r.kernel.core.directory, p >>> 22, table, (p >>> 12) & 0x3ff);
      return (pte & PTE_P) !== 0 && (pte & PTE_G) !== 0;
    });
    expect(global).toEqual([]);
    const a = start(r);
    const b = r.pk.fork(a);
    r.pk.kernelMode();
    for (const p of [0xc0100000, 0xc0101000]) m.read32(p);
    r.pk.switchTo(b);
    r.pk.kernelMode();
    const walks = m.mmu.misses;
    for (const p of [0xc0100000, 0xc0101000]) m.read32(p);
    expect(m.mmu.misses - walks).toBe(2);
  });
});
