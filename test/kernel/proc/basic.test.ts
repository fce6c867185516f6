import { describe, expect, it } from 'vitest';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE } from '../../../src/hw/fault.js';
import { ACCESS_KILLED } from '../../../src/kernel/proc/api.js';
import { DATA, STACK_TOP, TEXT, pattern, rig, sampleElf, start } from './helpers.js';

const u32 = (b: Uint8Array, o: number): number => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;

describe('exec and demand paging', () => {
  it('lays out regions and maps nothing but the stack at exec', () => {
    const r = rig();
    const { pid, stackPointer, brk } = r.pk.exec(sampleElf(), ['prog', 'x'], ['A=1'], { stackTop: STACK_TOP });
    expect(r.pk.regions(pid).map((v) => [v.start, v.end, v.kind, v.prot])).toEqual([
      [TEXT, TEXT + 0x2000, 'file', 5],
      [DATA, DATA + 0x5000, 'file', 3],
      [DATA + 0x5000, DATA + 0x5000, 'brk', 3],
      [stackPointer - (stackPointer % 4096), STACK_TOP, 'stack', 3],
    ]);
    expect(brk).toBe(DATA + 0x5000);
    const s = r.pk.stats(pid);
    expect(s.faults.stack).toBe(s.pageIns);
    expect(s.pageIns).toBe(s.resident);
    expect(s.faults.file + s.faults.zero).toBe(0);
    expect(r.pk.audit()).toEqual([]);
  });

  it('writes argc, argv, envp and auxv on the stack through the MMU', () => {
    const r = rig();
    const { pid, stackPointer: sp } = r.pk.exec(sampleElf(), ['prog', 'x'], ['A=1'], { stackTop: STACK_TOP });
    r.pk.switchTo(pid);
    const rd = (a: number): number => r.pk.access(pid, a, 4, ACCESS_READ);
    const str = (a: number): string => {
      let s = '';
      for (let c = r.pk.access(pid, a, 1, ACCESS_READ); c !== 0; c = r.pk.access(pid, ++a, 1, ACCESS_READ))
        s += String.fromCharCode(c);
      return s;
    };
    expect(sp % 16).toBe(0);
    expect(rd(sp)).toBe(2);
    expect([str(rd(sp + 4)), str(rd(sp + 8)), rd(sp + 12), str(rd(sp + 16)), rd(sp + 20)]).toEqual([
      'prog',
      'x',
      0,
      'A=1',
      0,
    ]);
    const aux = new Map<number, number>();
    for (let a = sp + 24; rd(a) !== 0; a += 8) aux.set(rd(a), rd(a + 4));
    expect(aux.get(6)).toBe(4096); // AT_PAGESZ
    expect(aux.get(9)).toBe(TEXT + 0x10); // AT_ENTRY
    expect(aux.get(5)).toBe(2); // AT_PHNUM
    expect(rd(aux.get(3)!)).toBe(1); // AT_PHDR: the first program header's p_type is PT_LOAD
    expect(r.pk.stats(pid).faults.file).toBe(1); // AT_PHDR's page was read from the file
  });

  it('reads file pages on first touch, zero past p_filesz, once per page', () => {
    const r = rig();
    const elf = sampleElf();
    const pid = start(r, elf);
    const before = r.pk.stats(pid);
    const text = elf.subarray(0, 0x2000);
    expect(u32(text, 0)).toBe(0x464c457f);
    expect(r.pk.access(pid, TEXT + 0x10, 4, ACCESS_FETCH)).toBe(u32(text, 0x10));
    expect(r.pk.access(pid, TEXT + 0x1ffc, 4, ACCESS_READ)).toBe(u32(text, 0x1ffc));
    expect(r.pk.access(pid, TEXT + 0x20, 4, ACCESS_READ)).toBe(u32(text, 0x20)); // same page: no fault
    const data = pattern(0x1800, 2);
    expect(r.pk.access(pid, DATA + 0x100, 4, ACCESS_READ)).toBe(u32(data, 0));
    expect(r.pk.access(pid, DATA + 0x1000, 4, ACCESS_READ)).toBe(u32(data, 0xf00));
    expect(r.pk.access(pid, DATA + 0x18fc, 4, ACCESS_READ)).toBe(u32(data, 0x17fc)); // last file bytes
    expect(r.pk.access(pid, DATA + 0x1900, 4, ACCESS_READ)).toBe(0); // past p_filesz, same page
    expect(r.pk.access(pid, DATA + 0x0, 4, ACCESS_READ)).toBe(0); // before p_vaddr in its first page
    expect(r.pk.access(pid, DATA + 0x2000, 4, ACCESS_READ)).toBe(0); // .bss page: zero fill
    r.pk.access(pid, DATA + 0x4000, 4, ACCESS_WRITE, 0xdeadbeef);
    expect(r.pk.access(pid, DATA + 0x4000, 4, ACCESS_READ)).toBe(0xdeadbeef);
    const s = r.pk.stats(pid);
    expect(s.faults.file - before.faults.file).toBe(4); // 2 text, 2 data pages
    expect(s.faults.zero - before.faults.zero).toBe(2);
    expect(s.pageIns - before.pageIns).toBe(6);
    expect(s.accesses).toBe(11);
    expect(r.events.filter((e) => e.type === 'fault' && !e.kernel).length).toBe(6);
    expect(r.pk.audit()).toEqual([]);
  });

  it('a straddling access faults in both pages', () => {
    const r = rig();
    const pid = start(r);
    r.pk.access(pid, DATA + 0x2ffe, 4, ACCESS_WRITE, 0x11223344);
    expect(r.pk.access(pid, DATA + 0x2ffe, 2, ACCESS_READ)).toBe(0x3344);
    expect(r.pk.access(pid, DATA + 0x3000, 2, ACCESS_READ)).toBe(0x1122);
    expect(r.pk.stats(pid).faults.zero).toBe(2);
  });

  it('never maps below 0x08048000: the null page kills', () => {
    const r = rig();
    const pid = start(r);
    expect(r.pk.access(pid, 0, 4, ACCESS_READ)).toBe(ACCESS_KILLED);
    const s = r.pk.stats(pid);
    expect(s.state).toBe('killed');
    expect(s.killed).toEqual({ address: 0, errorCode: 4, reason: 'no region', region: 'no region' });
    expect(r.pk.current).toBe(0);
    expect(r.pk.pids()).toEqual([]);
  });

  it('exit returns every frame', () => {
    const r = rig();
    const free0 = r.pk.frames().freeBefore;
    expect(r.kernel.frames.stats().free).toBe(free0);
    const pid = start(r);
    for (let a = DATA; a < DATA + 0x5000; a += 4096) r.pk.access(pid, a, 4, ACCESS_WRITE, a);
    r.pk.access(pid, TEXT, 4, ACCESS_FETCH);
    expect(r.pk.frames().freeNow).toBeLessThan(free0);
    r.pk.exit(pid, 7);
    expect(r.pk.frames().freeNow).toBe(free0);
    expect(r.pk.stats(pid)).toMatchObject({ state: 'exited', exitCode: 7, resident: 0, killed: null });
    expect(r.pk.audit()).toEqual([]);
    expect(r.kernel.vm.audit()).toEqual([]);
    expect(r.kernel.frames.audit()).toEqual([]);
  });
});
