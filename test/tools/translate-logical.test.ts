// `pagelab translate SEL:OFFSET`: the segment step through the kernel's GDT in
// front of the walk, its faults (#GP with the selector as error code), and its
// JSON; the step leaves the machine as it was.
import { describe, expect, it } from 'vitest';
import { runTranslate } from '../../src/tools/commands/translate.js';
import { parseLogical, segmentStep } from '../../src/tools/logical.js';
import { boot } from '../../src/boot/boot.js';
import { ACCESS_FETCH } from '../../src/hw/fault.js';
import { SEL_UCODE, SEL_UDATA } from '../../src/kernel/gdt.js';
import { kernelInit } from '../../src/kernel/main.js';

type Opts = Parameters<typeof runTranslate>[1];

/** run runs translate and returns its lines. */
function run(addr: string, o: Partial<Opts> = {}): string[] {
  const lines: string[] = [];
  runTranslate(addr, { space: 'kernel', cpl: '0', ...o }, (l) => lines.push(l));
  return lines;
}

/** json runs translate --json and parses its one line. */
function json(addr: string, o: Partial<Opts> = {}): Record<string, unknown> {
  return JSON.parse(run(addr, { ...o, json: true })[0]) as Record<string, unknown>;
}

describe('translate SEL:OFFSET', () => {
  it('parses hex and decimal selectors and offsets, and refuses what is not one', () => {
    expect(parseLogical('0x10:0xC0100000')).toEqual({ selector: 0x10, offset: 0xc0100000 });
    expect(parseLogical('16:4096')).toEqual({ selector: 16, offset: 4096 });
    expect(parseLogical('0xC0100000')).toBeNull();
    expect(() => parseLogical('0x10000:0')).toThrow(/16-bit selector before the colon/);
    expect(() => parseLogical('0x10:0x100000000')).toThrow(/32-bit offset after the colon/);
    expect(() => parseLogical('ds:0')).toThrow(/selector/);
  });

  it('shows the kernel data descriptor, then the same walk as the linear address', () => {
    const out = run('0x10:0xC0100123');
    expect(out[0]).toBe('logical 0x0010:0xC0100123 = selector index 2 (GDT, RPL 0), loaded into DS');
    expect(out[1]).toBe('  descriptor: base 0x00000000, limit 0xFFFFFFFF, DPL 0, data, writable');
    expect(out[2]).toBe('  linear 0xC0100123 = base + offset');
    expect(out.slice(3)).toEqual(run('0xC0100123'));
  });

  it('a fetch goes through CS by a far jump; CPL 3 may not jump to the kernel code segment', () => {
    expect(run('0x08:0xC0100000', { fetch: true })[0]).toMatch(/loaded into CS$/);
    const j = json('0x08:0xC0100000', { fetch: true, cpl: '3' });
    expect(j).toMatchObject({ linear: null, physical: null, logical: { register: 'CS', fault: { kind: 'gp' } } });
  });

  it('faults as the CPU does: past the GDT limit, a null selector used, a DPL-0 segment at CPL 3', () => {
    expect(run('0x28:0').at(-1)).toBe(
      '  stops: #GP(0x0028): selector 0x0028: index 5 is past the GDT limit (vector 13)',
    );
    expect(run('0:5').at(-1)).toMatch(/^ {2}stops: #GP\(0x0000\): DS holds a null selector/);
    expect(json('0x10:0', { cpl: '3' })).toMatchObject({ logical: { fault: { kind: 'gp', errorCode: 0x10 } } });
    expect(json('0x23:0x08048000', { cpl: '3' })).toMatchObject({ logical: { linear: 0x08048000, fault: null } });
  });

  it('--json adds a logical key to the walk keys, with the descriptor as numbers', () => {
    const j = json('0x10:0xC0100010');
    expect(Object.keys(j)).toEqual(['linear', 'pde', 'pte', 'physical', 'fault', 'logical']);
    expect(j).toMatchObject({
      linear: 0xc0100010,
      physical: 0x100010,
      logical: {
        selector: 0x10,
        offset: 0xc0100010,
        register: 'DS',
        descriptor: { base: 0, limit: 0xffffffff, type: 3, dpl: 0 },
        linear: 0xc0100010,
        fault: null,
      },
    });
  });

  it('the step has no side effect: the accessed bit stays clear, the machine stays at CPL 0', () => {
    const { info } = boot({ ram: 16 << 20 });
    const k = kernelInit(info);
    const m = info.machine;
    const hi = k.gdt.base + (SEL_UCODE & ~7) + 4;
    const before = m.read32(hi);
    const s = segmentStep(m, { selector: SEL_UCODE, offset: 0x08048000 }, ACCESS_FETCH, 3, {
      code: SEL_UCODE,
      data: SEL_UDATA,
    });
    expect(s).toMatchObject({ register: 'CS', linear: 0x08048000, fault: null });
    expect(m.read32(hi)).toBe(before);
    expect((before >>> 8) & 1).toBe(0);
    expect(m.seg.cpl).toBe(0);
  });
});
