// The walk printer and its JSON contract, on the machine and on a dump.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ACCESS_READ, ACCESS_WRITE } from '../../../src/hw/fault.js';
import { CR4_PSE, PDE_PS, PTE_P, PTE_RW } from '../../../src/hw/paging.js';
import { runInspect } from '../../../src/tools/commands/inspect.js';
import { formatWalk, walkJson } from '../../../src/tools/walkfmt.js';
import { PD, bytesOf, seedsKernel } from './layouts.js';
import { capture } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'pagelab-walk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('formatWalk', () => {
  const m = seedsKernel();
  m.mem.write32(PD + 800 * 4, 0x400000 | PTE_P | PTE_RW | PDE_PS);
  m.mmu.writeCr4(CR4_PSE);

  it('prints PDE, PTE, offset and the physical address', () => {
    const w = m.mmu.probe(0xc0123456, ACCESS_READ, false);
    expect(formatWalk(w, 0xc0123456)).toEqual([
      'linear 0xC0123456 = PDE 768 | PTE 291 | offset 0x456',
      '  PDE 768 at 0x00180C00 = 0x00181003 [P RW] -> page table at 0x00181000',
      '  PTE 291 at 0x0018148C = 0x00123003 [P RW] -> frame 0x00123000',
      '  physical 0x00123456 (supervisor read allowed)',
    ]);
    expect(walkJson(w, 0xc0123456)).toEqual({
      linear: 0xc0123456,
      pde: { index: 768, value: 0x00181003 },
      pte: { index: 291, value: 0x00123003 },
      physical: 0x00123456,
      fault: null,
    });
  });

  it('prints a 4 MiB page without a PTE', () => {
    const w = m.mmu.probe(0xc8012345, ACCESS_WRITE, false);
    expect(formatWalk(w, 0xc8012345, { kind: ACCESS_WRITE })).toEqual([
      'linear 0xC8012345 = PDE 800 | offset 0x012345 (4 MiB page)',
      '  PDE 800 at 0x00180C80 = 0x00400083 [P RW PS] -> 4 MiB page at 0x00400000',
      '  physical 0x00412345 (supervisor write allowed)',
    ]);
    expect(walkJson(w, 0xc8012345).pte).toBeNull();
  });

  it('says where and why translation stops, with the error code in words', () => {
    const w = m.mmu.probe(0x08048010, ACCESS_WRITE, true);
    const lines = formatWalk(w, 0x08048010, { kind: ACCESS_WRITE, user: true });
    expect(lines[lines.length - 1]).toBe(
      '  stops: a user write is not allowed here: page fault, error code 0x7 (protection violation, write, user)',
    );
    expect(walkJson(w, 0x08048010)).toMatchObject({ physical: null, fault: { errorCode: 7 } });
    const np = m.mmu.probe(0x40000000, ACCESS_READ, false);
    expect(formatWalk(np, 0x40000000)).toEqual([
      'linear 0x40000000 = PDE 256 | PTE 0 | offset 0x000',
      '  PDE 256 at 0x00180400 = 0x00000000 [not present]',
      '  stops: PDE not present: page fault, error code 0x0 (not present, read, supervisor)',
    ]);
    expect(walkJson(np, 0x40000000)).toEqual({
      linear: 0x40000000,
      pde: { index: 256, value: 0 },
      pte: null,
      physical: null,
      fault: { errorCode: 0 },
    });
  });

  it('inspect --translate on a dump of the machine prints what the machine walks', () => {
    const path = join(dir, 'seeds.bin');
    writeFileSync(path, bytesOf(m));
    for (const [a, user, access] of [
      [0xc0123456, false, 'read'],
      [0x08048010, true, 'write'],
      [0xc8012345, false, 'write'],
    ] as const) {
      const w = m.mmu.probe(a, access === 'write' ? ACCESS_WRITE : ACCESS_READ, user);
      const opts = { cr3: hex(PD), cr4: 'pse', cr0: 'wp', translate: hex(a), user, access };
      const text = runInspect(path, opts).text;
      expect(text).toBe(
        formatWalk(w, a, { kind: access === 'write' ? ACCESS_WRITE : ACCESS_READ, user, pse: true }).join('\n') + '\n',
      );
      expect(JSON.parse(runInspect(path, { ...opts, json: true }).text)).toEqual(walkJson(w, a));
    }
  });

  it('marks entries past the end of the image', () => {
    const c = capture(3);
    const text = runInspect(c.dump, { regs: c.registers, translate: '0x02000123' }).text;
    expect(text).toContain(
      'PTE 0 at 0x10000000 = 0x00000000 [not present] (past the end of the 8 MiB image: read as 0)',
    );
    const big = runInspect(c.dump, { regs: c.registers, translate: '0x00C00000' }).text;
    expect(big).toContain('physical 0x100000000');
  });
});

function hex(n: number): string {
  return '0x' + n.toString(16);
}
