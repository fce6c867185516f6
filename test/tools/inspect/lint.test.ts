// The lint: each mistake found with its location, none on a clean layout.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runInspect } from '../../../src/tools/commands/inspect.js';
import { lint, formatFinding, type CheckId, type LintOptions } from '../../../src/tools/inspect/lint.js';
import { scanDirectory } from '../../../src/tools/inspect/scan.js';
import { BufferImage } from '../../../src/tools/inspect/image.js';
import {
  BROKEN_REGS,
  KPT,
  KTEXT,
  PD,
  RAM,
  SEEDS_REGS,
  UPT,
  brokenKernel,
  bytesOf,
  imageOf,
  seedsKernel,
} from './layouts.js';
import { FIXTURES, capture } from './fixtures.js';

const OPTS: LintOptions = { ramSize: RAM, kernelBase: 0xc0000000, code: [{ start: KTEXT, end: KTEXT + 0xfff }] };
const dir = mkdtempSync(join(tmpdir(), 'pagelab-lint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lint', () => {
  it("finds nothing in the seeds' kernel layout", () => {
    const findings = lint(scanDirectory(imageOf(seedsKernel()), SEEDS_REGS), OPTS);
    expect(findings.map(formatFinding)).toEqual([]);
  });

  it('a 4 MiB page with reserved bit 21 has that finding only: it maps nothing a check could complain of', () => {
    const m = seedsKernel();
    // user-accessible, writable, in the kernel half, over the kernel's own page table: all unreachable (RSVD)
    m.mem.write32(PD + 900 * 4, 0x000000 | 0x1 | 0x2 | 0x4 | 0x80 | (1 << 21));
    const findings = lint(scanDirectory(imageOf(m), { ...SEEDS_REGS, cr4: 0x10 }), OPTS);
    expect(findings.map((f) => [f.check, f.location.pde])).toEqual([['reserved-bit', 900]]);
  });

  it('finds each deliberate mistake, at its entry', () => {
    const findings = lint(scanDirectory(imageOf(brokenKernel()), BROKEN_REGS), OPTS);
    const by = (c: CheckId) => findings.filter((f) => f.check === c);
    expect(by('identity-left')[0]).toMatchObject({
      severity: 'error',
      location: { entry: 'PDE', pde: 0, entryAddress: PD },
    });
    expect(by('writable-code')[0]).toMatchObject({
      severity: 'error',
      location: { entry: 'PTE', pde: 768, pte: 0x100 },
    });
    expect(by('writable-code').map((f) => f.location.linear)).toContain(KTEXT);
    /** PDE 0 shares the kernel's table, so the slot shows at 0x003FF000 too */
    expect(by('table-alias').map((f) => f.location.linear)).toEqual([0x003ff000, 0xc03ff000]);
    expect(by('table-alias')[1]).toMatchObject({
      severity: 'warning',
      location: { entry: 'PTE', pde: 768, pte: 1023, entryAddress: KPT + 1023 * 4, linear: 0xc03ff000 },
    });
    expect(by('table-alias')[0].message).toContain('the page table of PDE 32 (frame 0x00182000)');
    expect(by('user-kernel')[0]).toMatchObject({
      severity: 'error',
      location: { pde: 769, pte: 0, linear: 0xc0400000 },
    });
    expect(by('frame-outside')[0]).toMatchObject({
      severity: 'warning',
      location: { pde: 769, pte: 1, linear: 0xc0401000 },
    });
    expect(by('table-outside')[0]).toMatchObject({ severity: 'error', location: { entry: 'PDE', pde: 770 } });
    expect(by('table-outside')[0].message).toContain('outside RAM');
    expect(by('reserved-bit')[0]).toMatchObject({
      severity: 'error',
      location: { entry: 'PDE', pde: 771, entryAddress: PD + 771 * 4 },
    });
    const alias = by('alias-perms').find((f) => f.message.includes('0x0804C000') && f.message.includes('0x08050000'));
    expect(alias?.message).toContain('are mapped at 0x0804C000 (urw) and at 0x08050000 (ur-)');
    expect(alias?.location).toMatchObject({ entry: 'PTE', pde: 32, pte: 0x50, entryAddress: UPT + 0x50 * 4 });
    expect(findings.every((f) => formatFinding(f).split('\n').length === 1)).toBe(true);
  });

  it('says when a PS bit is ignored, a directory is missing, and WP=0 makes code writable', () => {
    const img = imageOf(brokenKernel());
    const nopse = lint(scanDirectory(img, { ...BROKEN_REGS, cr4: 0 }), OPTS);
    expect(nopse.find((f) => f.check === 'ps-ignored')?.location.pde).toBe(771);
    const off = lint(scanDirectory(img, { ...SEEDS_REGS, cr3: 0x2000000 }), OPTS);
    expect(off).toHaveLength(1);
    expect(off[0]).toMatchObject({ check: 'cr3-outside', severity: 'error' });
    const clean = imageOf(seedsKernel());
    const nowp = lint(scanDirectory(clean, { ...SEEDS_REGS, cr0: 0x80000001 }), OPTS);
    expect(nowp.map((f) => f.check)).toEqual(['writable-code']);
    expect(nowp[0].message).toContain('CR0.WP=0');
  });

  it('infers the higher half from the mappings when EIP is unknown', () => {
    const { eip: _eip, ...noEip } = BROKEN_REGS;
    const findings = lint(scanDirectory(imageOf(brokenKernel()), noEip), OPTS);
    expect(findings.some((f) => f.check === 'identity-left')).toBe(true);
    const stillLow = lint(scanDirectory(imageOf(brokenKernel()), { ...BROKEN_REGS, eip: 0x100010 }), OPTS);
    expect(stillLow.some((f) => f.check === 'identity-left')).toBe(false);
  });

  it('leaves recursive slots and the kernel window alone', () => {
    const m = seedsKernel();
    m.mem.write32(PD + 1023 * 4, PD | 3); // recursive slot: tables at 0xFFC00000
    expect(lint(scanDirectory(imageOf(m), SEEDS_REGS), OPTS)).toEqual([]);
    m.mem.write32(UPT + 0x60 * 4, UPT | 7); // but a user-writable view of a page table is an error
    const f = lint(scanDirectory(imageOf(m), SEEDS_REGS), OPTS).filter((x) => x.check === 'table-alias');
    expect(f[0]).toMatchObject({ severity: 'error', location: { linear: 0x08060000 } });
  });

  it('the command exits 1 on errors, 0 on warnings only, and prints JSON for tools', () => {
    const broken = join(dir, 'broken.bin');
    writeFileSync(broken, bytesOf(brokenKernel()));
    const r = runInspect(broken, {
      cr3: '0x180000',
      cr4: 'pse',
      cr0: 'wp',
      lint: true,
      code: ['0xC0100000-0xC0100FFF'],
    });
    expect(r.exitCode).toBe(1);
    expect(r.text).toMatch(/^error +identity-left +PDE 0 @0x00180000 0x00000000: /m);
    const c = capture(2);
    const seeds = runInspect(c.dump, { regs: c.registers, lint: true, json: true });
    expect(seeds.exitCode).toBe(0);
    const parsed = JSON.parse(seeds.text) as { errors: number; warnings: number; findings: { check: string }[] };
    expect(parsed).toMatchObject({ errors: 0, warnings: 1 });
    expect(parsed.findings[0].check).toBe('table-alias'); // the capture guest leaves its temporary slot on a page table
  });

  it("finds the captured odd layout's mistakes", () => {
    const c = capture(3);
    const r = runInspect(c.dump, { regs: c.registers, lint: true, json: true });
    const checks = new Set((JSON.parse(r.text) as { findings: { check: string }[] }).findings.map((f) => f.check));
    expect([...checks].sort()).toEqual([
      'alias-perms',
      'frame-outside',
      'reserved-bit',
      'table-alias',
      'table-outside',
      'user-kernel',
    ]);
    expect(r.exitCode).toBe(1);
  });

  it("--kernel takes the code ranges from the ELF's read-only executable segments", () => {
    const elf = join(FIXTURES, '../../../kernel/pagelab-kernel.elf');
    const clean = join(dir, 'clean.bin');
    writeFileSync(clean, bytesOf(seedsKernel()));
    const base = { cr3: '0x180000', cr0: 'wp', lint: true, kernel: elf };
    expect(runInspect(clean, base).text).toBe('no findings\n');
    const broken = join(dir, 'broken2.bin');
    writeFileSync(broken, bytesOf(brokenKernel()));
    expect(runInspect(broken, { ...base, cr4: 'pse' }).text).toMatch(
      /^error +writable-code +PDE 768 PTE 256 @0x00181400 0xC0100000: /m,
    );
  });

  it('an empty directory has no findings', () => {
    expect(
      lint(scanDirectory(new BufferImage(new Uint8Array(8192)), { cr0: 0x80000001, cr3: 0x1000, cr4: 0 }), OPTS),
    ).toEqual([]);
  });
});
