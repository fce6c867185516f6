// The tree and JSON views, checked against QEMU's own info tlb for the same dump.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runInspect } from '../../../src/tools/commands/inspect.js';
import type { InspectJson } from '../../../src/tools/inspect/json.js';
import { LAYOUTS, capture } from './fixtures.js';

describe('tree and JSON views', () => {
  it("the tree shows the seeds' kernel: its table, runs with decoded flags and physical ranges", () => {
    const c = capture(2);
    const lines = runInspect(c.dump, { regs: c.registers, format: 'tree' }).text.split('\n');
    expect(lines[0]).toBe('page directory at 0x00180000 (CR3 0x00180000, CR0 0x80010011 [PG WP], CR4 0x00000000 [])');
    expect(lines).toContain('PDE 768  0xC0000000-0xC03FFFFF  0x00181023 [P RW A] -> page table 0x00181000');
    expect(lines).toContain('  PTE 256       0xC0100000-0xC0100FFF -> 0x00100000-0x00100FFF  0x021 [P A] -r-');
    expect(lines).toContain('  PTE 1023      0xC03FF000-0xC03FFFFF -> 0x00183000-0x00183FFF  0x063 [P RW A D] -rw');
    expect(lines.some((l) => l.startsWith('PDE 0 '))).toBe(false);
  });

  afterEach(() => vi.unstubAllEnvs());

  it('is the default on a TTY, JSON otherwise', () => {
    vi.stubEnv('NO_COLOR', '');
    const c = capture(1);
    const tty = runInspect(c.dump, { regs: c.registers }, true).text;
    expect(tty).toContain('\u001b[1mpage directory at'); // headings in bold on a terminal
    // eslint-disable-next-line no-control-regex -- the escape codes are what this test strips
    expect(tty.replace(/\u001b\[\d+m/g, '')).toMatch(/^page directory at/);
    /** without a terminal the tree has no escape codes, whatever CI or FORCE_COLOR say */
    expect(runInspect(c.dump, { regs: c.registers, format: 'tree' }, false).text).not.toContain('\u001b');
    expect(() => JSON.parse(runInspect(c.dump, { regs: c.registers }, false).text) as unknown).not.toThrow();
  });

  it('NO_COLOR keeps the tree plain on a terminal', () => {
    vi.stubEnv('NO_COLOR', '1');
    const c = capture(1);
    const text = runInspect(c.dump, { regs: c.registers }, true).text;
    expect(text).toMatch(/^page directory at/);
    expect(text).not.toContain('\u001b');
  });

  for (const layout of LAYOUTS) {
    it(`layout ${layout}: JSON lists every leaf QEMU's info tlb lists, with the same frames`, () => {
      const c = capture(layout);
      const json = JSON.parse(runInspect(c.dump, { regs: c.registers, format: 'json' }).text) as InspectJson;
      const leaves: string[] = [];
      for (const pde of json.pdes) {
        if (pde.kind === 'page') leaves.push(`${pde.linear.start}:${pde.physical!.start % 2 ** 32}`);
        for (const run of pde.table?.runs ?? []) {
          for (let i = 0; i < run.count; i++)
            leaves.push(`${run.linear.start + i * 4096}:${run.physical.start + i * 4096}`);
        }
      }
      const qemu = c.infoTlb
        .trim()
        .split('\r\n')
        .map((l) => {
          const [lin, rest] = l.split(': ');
          return {
            lin: parseInt(lin, 16),
            phys: parseInt(rest.split(' ')[0], 16),
            large: rest.includes('P') && rest.split(' ')[1][2] === 'P',
          };
        });
      expect(leaves.length).toBe(qemu.length);
      /** 4 MiB pages: QEMU prints bits 31:21 of the PDE (bit 21 reserved); compare the 4 MiB frame */
      expect(leaves).toEqual(qemu.map((q) => `${q.lin}:${q.large ? q.phys - (q.phys % 0x400000) : q.phys}`));
    });
  }
});
