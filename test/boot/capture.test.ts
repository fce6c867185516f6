import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseCapture } from '../../src/boot/capture.js';
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
