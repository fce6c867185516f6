import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../../../src/errors.js';
import { parseUserImage } from '../../../src/kernel/proc/elf.js';
import { buildElf, DATA, pattern, rig, sampleElf, STACK_TOP, TEXT } from './helpers.js';

const text = (vaddr = TEXT, flags = 5) => ({ vaddr, data: pattern(0x1000, 1), flags, offset: 0 });

describe('exec ELF checks', () => {
  it('accepts the sample and a real static i386 program', async () => {
    expect(parseUserImage(sampleElf()).segments.length).toBe(2);
    const { readFileSync } = await import('node:fs');
    const img = parseUserImage(new Uint8Array(readFileSync('test/programs/compute')));
    expect(img.segments.map((s) => s.prot)).toEqual([1, 5, 1, 3]);
    expect(img.phdr).toBe(TEXT + 52);
  });

  const cases: [string, Uint8Array, RegExp][] = [
    ['ET_DYN', buildElf({ type: 3, segments: [text()] }), /offset 0x10 .*ET_EXEC/],
    ['x86-64', buildElf({ machine: 62, segments: [text()] }), /offset 0x12 .*EM_386/],
    ['below 0x08048000', buildElf({ segments: [text(0x08000000)] }), /offset 0x3c .*0x08048000/],
    [
      'into the kernel half',
      buildElf({ segments: [text(0xbffff000)], entry: 0xbffff000 }).map((b, i) => (i === 72 ? 0x20 : b)),
      /offset 0x48 .*0xC0000000/,
    ],
    [
      'no PT_LOAD',
      buildElf({ segments: [text()], extraTypes: [] }).map((b, i) => (i === 52 ? 0 : b)),
      /offset 0x1c .*PT_LOAD/,
    ],
    ['a dynamic one', buildElf({ segments: [text()], extraTypes: [3] }), /offset 0x54 .*statically linked/],
    ['entry outside text', buildElf({ segments: [text()], entry: DATA }), /offset 0x18 .*e_entry/],
    ['entry in a non-exec segment', buildElf({ segments: [text(TEXT, 4)] }), /offset 0x18 .*PF_X/],
    [
      'overlapping pages',
      buildElf({ segments: [text(), { vaddr: TEXT + 0x800, data: pattern(16, 2), flags: 6 }] }),
      /offset 0x5c .*pages of its own/,
    ],
    [
      'incongruent offset',
      buildElf({ segments: [text(), { vaddr: DATA, data: pattern(16, 2), flags: 6, offset: 0x1008 }] }),
      /offset 0x58 .*congruent/,
    ],
  ];
  for (const [what, bytes, msg] of cases)
    it(`rejects ${what} with a ParseError naming the offset`, () => {
      expect(() => parseUserImage(bytes)).toThrow(ParseError);
      expect(() => parseUserImage(bytes)).toThrow(msg);
    });

  it('a rejected exec changes nothing: no frame taken, no process', () => {
    const r = rig();
    const free = r.pk.frames().freeNow;
    expect(() => r.pk.exec(cases[0][1], ['x'], [], { stackTop: STACK_TOP })).toThrow(ParseError);
    expect(() => r.pk.exec(sampleElf(), ['x'], [], { stackTop: STACK_TOP + 1 })).toThrow(/stack top/);
    expect(r.pk.frames().freeNow).toBe(free);
    expect(r.pk.pids()).toEqual([]);
  });

  it('fuzz: any corruption of a valid image parses or is a ParseError', () => {
    const good = sampleElf().subarray(0, 0x200);
    const whole = sampleElf();
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.nat(255)), { maxLength: 8 }), (edits) => {
        const b = whole.slice();
        for (const [i, v] of edits) b[i] = v;
        try {
          parseUserImage(b);
        } catch (e) {
          expect(e).toBeInstanceOf(ParseError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
