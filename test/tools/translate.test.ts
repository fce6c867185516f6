import { describe, expect, it } from 'vitest';
import { parseLinear, runTranslate } from '../../src/tools/commands/translate.js';

type Opts = Parameters<typeof runTranslate>[1];
const base: Opts = { space: 'kernel', cpl: '0' };

/** The --json document, as far as these tests read it. */
interface WalkDoc {
  physical: number | null;
  [key: string]: unknown;
}

/** json runs translate --json and parses its one line. */
function json(addr: string, o: Partial<Opts> = {}): WalkDoc {
  return JSON.parse(run(addr, { ...o, json: true })[0]) as WalkDoc;
}

function run(addr: string, o: Partial<Opts> = {}): string[] {
  const lines: string[] = [];
  runTranslate(addr, { ...base, ...o }, (l) => lines.push(l));
  return lines;
}

describe('pagelab translate', () => {
  it('prints the walk of a kernel address as the seeds draw it', () => {
    const out = run('0xC0100123');
    expect(out[1]).toBe('linear 0xC0100123 = PDE 768 | PTE 256 | offset 0x123');
    expect(out[2]).toMatch(/^ {2}PDE 768 at 0x[0-9A-F]{8} = 0x[0-9A-F]{8} \[P RW A\] -> page table at 0x[0-9A-F]{8}$/);
    expect(out[3]).toMatch(/^ {2}PTE 256 at .* \[P A G\] -> frame 0x00100000$/); // kernel .text: read-only, global
    expect(out[4]).toBe('  physical 0x00100123 (supervisor read allowed)');
  });

  it('says where and why translation stops, with the CPU error code', () => {
    expect(run('0x00100000').at(-1)).toBe(
      '  stops: PDE not present: page fault, error code 0x0 (not present, read, supervisor)',
    );
    expect(run('0xC0100000', { cpl: '3', write: true }).at(-1)).toBe(
      '  stops: a user write is not allowed here: page fault, error code 0x7 (protection violation, write, user)',
    );
  });

  it('--json gives {linear, pde, pte, physical, fault} as numbers', () => {
    const ok = json('0xC0100010');
    expect(Object.keys(ok)).toEqual(['linear', 'pde', 'pte', 'physical', 'fault']);
    expect(ok).toMatchObject({
      linear: 0xc0100010,
      pde: { index: 768 },
      pte: { index: 256 },
      physical: 0x100010,
      fault: null,
    });
    const bad = json('0xC0100010', { cpl: '3' });
    expect(bad).toMatchObject({ physical: null, fault: { errorCode: 5 } });
  });

  it('the same answer with --pt-access recursive and with --pse, for a heap page', () => {
    const a = json('0xD0000004');
    const b = json('0xD0000004', { ptAccess: 'recursive', pse: true });
    expect(a.physical).not.toBeNull();
    expect(b.physical).toBe(a.physical);
  });

  it('rejects bad addresses and contradictory options', () => {
    expect(parseLinear('0xffffffff')).toBe(0xffffffff);
    expect(parseLinear('4096')).toBe(4096);
    for (const bad of ['zz', '0x1ffffffff', '-1', '']) expect(() => parseLinear(bad)).toThrow(/bad address/);
    expect(() => run('0x1000', { write: true, fetch: true })).toThrow(/give one/);
  });
});
