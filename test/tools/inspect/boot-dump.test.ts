// End to end: `pagelab boot --dump` then `pagelab inspect` on that file.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBoot } from '../../../src/tools/commands/boot.js';
import { runInspect } from '../../../src/tools/commands/inspect.js';

const dir = mkdtempSync(join(tmpdir(), 'pagelab-bootdump-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** bootAndDump boots the default machine with --dump and keeps its --json facts as the registers file. */
function bootAndDump(
  name: string,
  extra: { pse?: boolean; ptAccess?: string; frames?: string } = {},
): { dump: string; regs: string } {
  const dump = join(dir, `${name}.bin`);
  const regs = join(dir, `${name}.json`);
  const out: string[] = [];
  runBoot(
    {
      ram: '16M',
      tlb: 'sa:16x4',
      frames: 'bitmap',
      ptAccess: 'slot',
      module: [],
      quiet: true,
      json: true,
      dump,
      ...extra,
    },
    (s) => out.push(s),
    false,
  );
  writeFileSync(regs, out.join('\n'));
  return { dump, regs };
}

describe('boot --dump, then inspect', () => {
  const { dump, regs } = bootAndDump('default');

  it("shows the default machine's mappings: the kernel half through one page table, no identity map", () => {
    expect(statSync(dump).size).toBe(16 << 20);
    const tree = runInspect(dump, { regs, format: 'tree' }).text;
    expect(tree).toMatch(
      /^PDE 768 {2}0xC0000000-0xC03FFFFF {2}0x[0-9A-F]{8} \[P RW[^\]]*\] -> page table 0x[0-9A-F]{8}$/m,
    );
    expect(tree).toMatch(/^ {2}PTE 0-255 +0xC0000000-0xC00FFFFF -> 0x00000000-0x000FFFFF/m);
    expect(tree).not.toMatch(/^PDE 0 /m);
    const mem = runInspect(dump, { regs, format: 'info-mem' }).text;
    expect(mem.split('\n')[0]).toMatch(/^00000000c0000000-00000000c0[0-9a-f]{6} [0-9a-f]{16} -rw$/);
  });

  it('the lint is clean on it', () => {
    const r = runInspect(dump, { regs, lint: true });
    expect(r.text).toBe('no findings\n');
    expect(r.exitCode).toBe(0);
  });

  it("walks the kernel's first bytes to physical 1 MiB", () => {
    const w = JSON.parse(runInspect(dump, { regs, translate: '0xC0100000', json: true }).text) as { physical: number };
    expect(w.physical).toBe(0x100000);
  });

  it("with --pse the boot's 4 MiB page has been split into a page table by the memory manager", () => {
    const pse = bootAndDump('pse', { pse: true });
    const tree = runInspect(pse.dump, { regs: pse.regs, format: 'tree' }).text;
    expect(tree).toContain('CR4 0x00000090 [PSE PGE]');
    expect(tree).toMatch(/^PDE 768 .*-> page table 0x[0-9A-F]{8}$/m);
    expect(tree).not.toContain('4 MiB page');
    expect(runInspect(pse.dump, { regs: pse.regs, lint: true }).exitCode).toBe(0);
  });

  it('the registers in the JSON are those of the dump: CR4.PGE is on at the end (off at the hand-off)', () => {
    expect(runInspect(dump, { regs, format: 'tree' }).text).toContain('CR4 0x00000080 [PGE]');
  });

  // The recursive strategy once left PDE 1022 aimed at a destroyed directory whose frame the heap then reused.
  for (const frames of ['bitmap', 'list', 'buddy']) {
    it(`with --pt-access recursive --frames ${frames} the lint is clean too: no window left onto a freed directory`, () => {
      const rec = bootAndDump(`recursive-${frames}`, { ptAccess: 'recursive', frames });
      const r = runInspect(rec.dump, { regs: rec.regs, lint: true });
      expect(r.text).toBe('no findings\n');
      expect(r.warnings).toEqual([]);
      expect(runInspect(rec.dump, { regs: rec.regs, format: 'tree' }).text).not.toMatch(/^PDE 1022/m);
    });
  }
});
