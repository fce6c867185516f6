import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { capturedBytes, parseCapture } from '../../src/boot/capture.js';
import { ParseError } from '../../src/errors.js';
import { allFixtures } from './qemu-fixtures.js';

describe('the capture text format', () => {
  it('reads every fixture: registers, 7 physical regions, control registers, directory and table', () => {
    for (const fx of allFixtures()) {
      const c = fx.capture;
      expect(c.ebx).toBe(0x9500);
      expect(c.physical).toHaveLength(7);
      expect(c.control).toEqual({ cr0: 0x80010011, cr3: 0x102000, cr4: fx.pse ? 0x10 : 0 });
      expect(c.linear.map((r) => [r.addr, r.bytes.length])).toEqual([
        [0xc0102000, 4096],
        [0xc0103000, 4096],
      ]);
    }
  });

  it('rejects malformed lines, naming the line', () => {
    expect(() => parseCapture('# x\nR 2badb002 9500\nD 9500 3 0102\n')).toThrow(/line 3: expected exactly 3 bytes/);
    expect(() => parseCapture('R 2badb002\n')).toThrow(/line 1: expected a hex number .* field 3/);
    expect(() => parseCapture('X 1 2\n')).toThrow(/line 1: expected a line starting with R, D, C, V or #/);
    expect(() => parseCapture('D 0 1 00\n')).toThrow(/line 1: expected an R line/);
    expect(() => parseCapture('R 1 2\nD ffffffff 2 0000\n')).toThrow(/line 2: expected a region that ends by 4 GiB/);
  });

  it('names the byte of a region that is not two hex digits', () => {
    expect(() => parseCapture('R 1 2\nD 9500 3 01z203\n')).toThrow(
      /line 2: expected two hex digits for byte 1 .* got z2/,
    );
  });

  it('captured bytes: exact per byte across page edges, a later region wins, the rest is not RAM', () => {
    const c = parseCapture('R 2badb002 9500\nD 0ffe 4 11223344\nD 0fff 2 aabb\nD 5000 1 7f\n');
    const mem = capturedBytes(c);
    expect([0xffd, 0xffe, 0xfff, 0x1000, 0x1001, 0x1002].map((p) => mem.isRam(p))).toEqual([
      false,
      true,
      true,
      true,
      true,
      false,
    ]);
    expect(mem.read32(0xffe)).toBe(0x44bbaa11);
    expect(mem.read8(0x1002)).toBe(0xff);
    expect([mem.isRam(0x5000), mem.read8(0x5000), mem.isRam(0x4fff), mem.isRam(0x5001)]).toEqual([
      true,
      0x7f,
      false,
      false,
    ]);
  });

  it('fuzz: any text parses or gives a ParseError', () => {
    const token = fc.constantFrom('R', 'D', 'C', 'V', '#', '2badb002', '9500', '3', '0', '0102', 'zz', '', 'ffffffff');
    const line = fc.array(token, { maxLength: 5 }).map((t) => t.join(' '));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(line, { maxLength: 6 }).map((l) => l.join('\n')),
          fc.string(),
        ),
        (text) => {
          try {
            parseCapture(text);
          } catch (e) {
            if (!(e instanceof ParseError)) throw e;
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
