import { describe, expect, it } from 'vitest';
import { ACCESS_READ, ACCESS_WRITE } from '../../../src/hw/fault.js';
import {
  ACCESS_KILLED,
  EFAULT,
  EINVAL,
  ENOMEM,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
} from '../../../src/kernel/proc/api.js';
import { DATA, pattern, rig, start } from './helpers.js';

const RW = PROT_READ | PROT_WRITE;
const MAP = 0x40000000;

describe('brk', () => {
  it('grows as zero pages, shrinks freeing frames and page tables', () => {
    const r = rig();
    const pid = start(r);
    const base = r.pk.brk(pid, 0);
    expect(base).toBe(DATA + 0x5000);
    const free0 = r.pk.frames().freeNow;
    expect(r.pk.brk(pid, base + 0x800000)).toBe(base + 0x800000); // 8 MiB: crosses into new page tables
    for (let a = base; a < base + 0x800000; a += 0x100000) r.pk.access(pid, a, 4, ACCESS_WRITE, a);
    expect(r.pk.access(pid, base + 0x700000, 4, ACCESS_READ)).toBe(base + 0x700000);
    expect(r.pk.frames().freeNow).toBeLessThan(free0 - 8);
    expect(r.pk.brk(pid, base + 0x1000)).toBe(base + 0x1000);
    expect(r.pk.frames().freeNow).toBe(free0 - 2); // the first brk page and its page table stay
    expect(r.pk.access(pid, base + 0x100000, 4, ACCESS_READ)).toBe(ACCESS_KILLED); // gone
  });

  it('refuses to run into another region, and answers with the old break', () => {
    const r = rig();
    const pid = start(r);
    const base = r.pk.brk(pid, 0);
    expect(r.pk.mmap2(pid, base + 0x10000, 0x1000, RW)).toBe(base + 0x10000);
    expect(r.pk.brk(pid, base + 0x20000)).toBe(base);
    expect(r.pk.brk(pid, base - 0x100)).toBe(base);
  });
});

describe('mmap2, munmap, mprotect', () => {
  it('anonymous mappings come in as zero pages; munmap splits and frees', () => {
    const r = rig();
    const pid = start(r);
    expect(r.pk.mmap2(pid, MAP, 0x4000, RW)).toBe(MAP);
    for (let i = 0; i < 4; i++) r.pk.access(pid, MAP + i * 0x1000, 4, ACCESS_WRITE, i + 1);
    const free = r.pk.frames().freeNow;
    expect(r.pk.munmap(pid, MAP + 0x1000, 0x2000)).toBe(0);
    expect(r.pk.frames().freeNow).toBe(free + 2);
    expect(
      r.pk
        .regions(pid)
        .filter((v) => v.kind === 'anon')
        .map((v) => [v.start, v.end]),
    ).toEqual([
      [MAP, MAP + 0x1000],
      [MAP + 0x3000, MAP + 0x4000],
    ]);
    expect(r.pk.access(pid, MAP + 0x3000, 4, ACCESS_READ)).toBe(4);
    expect(r.pk.stats(pid).faults.zero).toBe(4);
    expect(r.pk.access(pid, MAP + 0x1000, 4, ACCESS_READ)).toBe(ACCESS_KILLED);
  });

  it('file mappings read the file on first touch', () => {
    const r = rig();
    const pid = start(r);
    const file = pattern(0x2800, 9);
    expect(r.pk.mmap2(pid, MAP, 0x3000, PROT_READ, { bytes: file, offset: 0x1000 })).toBe(MAP);
    expect(r.pk.access(pid, MAP, 1, ACCESS_READ)).toBe(file[0x1000]);
    expect(r.pk.access(pid, MAP + 0x17ff, 1, ACCESS_READ)).toBe(file[0x27ff]);
    expect(r.pk.access(pid, MAP + 0x1800, 1, ACCESS_READ)).toBe(0); // past the file's end
    expect(r.pk.access(pid, MAP + 0x2000, 1, ACCESS_READ)).toBe(0);
    expect(r.pk.stats(pid).faults).toMatchObject({ file: 2, zero: 1 });
  });

  it('mprotect changes PTEs with their INVLPGs: a cached writable entry does not survive', () => {
    const r = rig();
    const pid = start(r);
    r.pk.mmap2(pid, MAP, 0x2000, RW);
    r.pk.access(pid, MAP, 4, ACCESS_WRITE, 5); // TLB holds a writable entry
    expect(r.pk.mprotect(pid, MAP, 0x1000, PROT_READ)).toBe(0);
    expect(r.pk.access(pid, MAP, 4, ACCESS_READ)).toBe(5);
    expect(r.pk.access(pid, MAP + 0x1000, 4, ACCESS_WRITE, 6)).toBe(0); // the other half is still RW
    expect(r.pk.mprotect(pid, MAP, 0x1000, RW)).toBe(0);
    r.pk.access(pid, MAP, 4, ACCESS_WRITE, 7);
    expect(r.pk.mprotect(pid, MAP, 0x1000, PROT_NONE)).toBe(0);
    expect(r.pk.access(pid, MAP, 4, ACCESS_READ)).toBe(ACCESS_KILLED);
    expect(r.pk.stats(pid).killed).toMatchObject({ reason: 'no access' });
  });

  it('a write after mprotect(PROT_READ) kills', () => {
    const r = rig();
    const pid = start(r);
    r.pk.mmap2(pid, MAP, 0x1000, RW);
    r.pk.access(pid, MAP, 4, ACCESS_WRITE, 5);
    r.pk.mprotect(pid, MAP, 0x1000, PROT_READ);
    expect(r.pk.access(pid, MAP, 4, ACCESS_WRITE, 6)).toBe(ACCESS_KILLED);
    expect(r.pk.stats(pid).killed).toMatchObject({ reason: 'write to read-only' });
  });

  it('bad arguments get -errno and change nothing', () => {
    const r = rig();
    const pid = start(r);
    const before = JSON.stringify(r.pk.regions(pid));
    expect(r.pk.mmap2(pid, MAP + 1, 0x1000, RW)).toBe(-EINVAL);
    expect(r.pk.mmap2(pid, 0x1000, 0x1000, RW)).toBe(-EINVAL); // below 0x08048000
    expect(r.pk.mmap2(pid, 0xbfff0000, 0x20000, RW)).toBe(-EINVAL); // into the kernel half
    expect(r.pk.munmap(pid, MAP, 0)).toBe(-EINVAL);
    expect(r.pk.mprotect(pid, MAP, 0x1000, PROT_READ)).toBe(-ENOMEM); // nothing mapped there
    expect(JSON.stringify(r.pk.regions(pid))).toBe(before);
    expect(r.pk.copyOut(pid, 0xbffffffe, Uint8Array.of(1, 2, 3))).toBe(-EFAULT);
    expect(r.pk.copyOut(pid, 0x1000, Uint8Array.of(1))).toBe(-EFAULT);
    expect(r.pk.copyOut(pid, DATA - 0x1000, Uint8Array.of(1))).toBe(-EFAULT); // text: read-only region
    expect(r.pk.stats(pid).state).toBe('runnable');
    expect(r.pk.audit()).toEqual([]);
  });
});
