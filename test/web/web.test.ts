// The web visualizer in a real browser (Debian's chromium, headless): the boot
// stepped to the end, walks compared with `pagelab translate`, the directory
// grid compared with the machine booted here, and no console errors anywhere.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boot } from '../../src/boot/boot.js';
import { kernelMain } from '../../src/kernel/main.js';
import { gunzipSync } from 'node:zlib';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FRAME_MASK, PTE_P } from '../../src/hw/paging.js';
import { BufferImage } from '../../src/tools/inspect/image.js';
import { parseRegistersFile } from '../../src/tools/inspect/regs.js';
import { scanDirectory } from '../../src/tools/inspect/scan.js';
import { formatTree } from '../../src/tools/inspect/tree.js';
import { cli, missingBrowser, openPage, startHarness, type Harness, type WatchedPage } from './harness.js';

const skip = missingBrowser();
if (skip !== null) console.log(`test/web: ${skip}`);

/** nodeBoot boots as the page and `pagelab translate` do, in this process. */
function nodeBoot(): ReturnType<typeof kernelMain> & { steps: ReturnType<typeof boot>['steps'] } {
  const r = boot({ ram: 128 * 1024 * 1024 });
  const report = kernelMain(r.info, { quiet: true, tlbMissCounter: () => r.info.machine.mmu.counters().misses });
  report.kernel.vm.switchTo(report.kernel.vm.kernel);
  return { ...report, steps: r.steps };
}

describe.skipIf(skip !== null)('the web visualizer in chromium', () => {
  let h: Harness;
  const pages: WatchedPage[] = [];
  const node = nodeBoot();

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    for (const p of pages) expect(p.errors, 'console errors').toEqual([]);
    await h.close();
  });

  /** open opens a watched page (its console errors are checked at the end). */
  async function open(hash: string): Promise<WatchedPage['page']> {
    const w = await openPage(h, hash);
    pages.push(w);
    return w.page;
  }

  it('boots the default kernel and steps through the boot to the end', async () => {
    const page = await open('#view=boot&step=0');
    const names = [...node.steps.map((s) => s.name), "the memory manager's bring-up (kmain)"];
    for (let i = 0; i < names.length; i++) {
      expect(await page.textContent('#boot-step-name')).toBe(`${i + 1}. ${names[i]}`);
      if (i < names.length - 1) await page.click('#boot-next');
    }
    expect(await page.isDisabled('#boot-next')).toBe(true);
    await page.click('#boot-first');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    expect(await page.textContent('#boot-step-name')).toBe(`3. ${names[2]}`);
    const cr3 = await page.textContent('#boot-detail tr[data-reg="cr3"].changed td:nth-child(3)');
    expect(Number(cr3)).toBe(node.steps[2].cr3); // enable paging loads CR3
    await page.keyboard.press('ArrowRight');
    const ops = await page.textContent('#boot-detail .ops');
    expect(ops).toContain('INVLPG 0x00000000'); // the identity mapping dropped
    const writes = await page.textContent('#boot-detail table.writes');
    expect(writes).toContain('boot page directory, PDE 0'); // PDE 0 cleared through the MMU
  });

  it('walks 0xC0100000 exactly as `pagelab translate` prints it', async () => {
    const [text, json] = await Promise.all([cli('translate', '0xC0100000'), cli('translate', '0xC0100000', '--json')]);
    const page = await open('#view=walk&addr=0xC0100000');
    expect(await page.textContent('#walk-text')).toBe(text.trimEnd());
    const doc = JSON.parse(json) as { pde: { value: number }; pte: { value: number }; physical: number };
    const result = page.locator('#walk-result');
    expect(Number(await result.getAttribute('data-pde'))).toBe(doc.pde.value);
    expect(Number(await result.getAttribute('data-pte'))).toBe(doc.pte.value);
    expect(Number(await page.textContent('#walk-phys'))).toBe(doc.physical);
    expect(await page.locator('[data-entry="PTE"] .chip.on').allTextContents()).toEqual(['P', 'A', 'G']);
  });

  it('shows the error code of a faulting access and why, as translate does', async () => {
    const json = await cli('translate', '0xC0100000', '--cpl', '3', '--write', '--json');
    const page = await open('#view=walk&addr=0x00100000');
    expect(await page.getAttribute('#walk-fault', 'data-error-code')).toBe('0'); // the identity map is gone
    await page.check('#walk-user');
    await page.fill('#walk-addr', '0xC0100000');
    await page.selectOption('#walk-access', 'write');
    await page.waitForFunction("location.hash.includes('access=write') && location.hash.includes('user=1')");
    const code = (JSON.parse(json) as { fault: { errorCode: number } }).fault.errorCode;
    expect(Number(await page.getAttribute('#walk-fault', 'data-error-code'))).toBe(code);
    expect(await page.textContent('#walk-fault')).toContain('protection violation, write, user');
    expect(await page.textContent('#walk-fault')).toContain('a user write is not allowed here');
  });

  it('draws the directory grid with the present PDEs of the machine and opens a table', async () => {
    const mem = node.kernel.core.machine.mem;
    const dir = node.kernel.vm.kernel.directory;
    const present = [...Array(1024).keys()].filter((i) => (mem.read32(dir + i * 4) & PTE_P) !== 0);
    const page = await open('#view=dir');
    const cells = page.locator('#dir-grid .cell');
    expect(await cells.count()).toBe(1024);
    const shown = await Promise.all(
      (await page.locator('#dir-grid .cell.p').all()).map(async (c) => Number(await c.getAttribute('data-index'))),
    );
    expect(shown).toEqual(present);
    expect(await page.getAttribute('#dir-grid .cell[data-index="768"]', 'class')).toContain('slot');
    await page.click('#dir-grid .cell[data-index="768"]');
    const table = (mem.read32(dir + 768 * 4) & FRAME_MASK) >>> 0;
    expect(await page.textContent('#table-view')).toContain(
      `page table at 0x${table.toString(16).toUpperCase().padStart(8, '0')}`,
    );
    const presentPtes = [...Array(1024).keys()].filter((j) => (mem.read32(table + j * 4) & PTE_P) !== 0).length;
    expect(await page.locator('#pt-grid .cell.p').count()).toBe(presentPtes);
    expect(await page.evaluate('location.hash')).toBe('#view=dir&pde=768');
  });

  it('marks the stale TLB entry after a PTE edit without INVLPG, and INVLPG clears it', async () => {
    const page = await open('#view=tlb');
    expect(await page.locator('#tlb-grid .tlb-entry.stale').count()).toBe(0);
    await page.click('#tlb-demo');
    const stale = page.locator('#tlb-grid .tlb-entry.stale');
    expect(await stale.count()).toBe(1);
    expect(Number(await stale.getAttribute('data-vpn'))).toBe(0xc8000000 / 4096);
    const log = (await page.textContent('#tlb-log')) ?? '';
    expect(log).toMatch(/read32 0xC8000000 = 0xAAAAAAAA: TLB hit\n/); // the old frame, through the cached entry
    await page.click('#tlb-invlpg');
    expect(await page.locator('#tlb-grid .tlb-entry.stale').count()).toBe(0);
    expect(await page.textContent('#tlb-log')).toMatch(/read32 0xC8000000 = 0xBBBBBBBB: TLB miss/);
  });

  it('reads a dropped QEMU dump and its registers and shows its tables as inspect does', async () => {
    const dir = 'test/fixtures/inspect/layout2';
    const img = new BufferImage(gunzipSync(readFileSync(`${dir}/dump.bin.gz`)));
    const view = scanDirectory(img, parseRegistersFile(readFileSync(`${dir}/registers.txt`, 'utf8'), 'registers'));
    const page = await open('#view=dump');
    await page.setInputFiles('#dump-files', [`${dir}/dump.bin.gz`, `${dir}/registers.txt`]);
    await page.waitForSelector('#view-dir');
    expect(await page.textContent('#target-label')).toContain('dump.bin.gz (8 MiB) with registers.txt');
    const shown = await Promise.all(
      (await page.locator('#dir-grid .cell.p').all()).map(async (c) => Number(await c.getAttribute('data-index'))),
    );
    expect(shown).toEqual(view.pdes.map((p) => p.index));
    expect(await page.textContent('#dir-tree')).toBe(formatTree(view).join('\n'));
    await page.click('[data-view="walk"]');
    const text = await cli(
      'inspect',
      `${dir}/dump.bin.gz`,
      '--regs',
      `${dir}/registers.txt`,
      '--translate',
      '0xC0100000',
    );
    expect(await page.textContent('#walk-text')).toBe(text.trimEnd());
  });

  it('refuses a dump without registers with a clear message', async () => {
    const page = await open('#view=dump');
    await page.setInputFiles('#dump-files', ['test/fixtures/inspect/layout1/dump.bin.gz']);
    await page.waitForSelector('#dump-status.error');
    expect(await page.textContent('#dump-status')).toContain('no registers among the files');
  });

  it('maps the frames by owner, free ones as the allocator counts them, and zooms to one frame', async () => {
    const page = await open('#view=frames');
    const count = async (kind: string): Promise<number> =>
      Number(await page.getAttribute(`#view-frames [data-kind="${kind}"]`, 'data-count'));
    expect(await count('free')).toBe(node.kernel.frames.stats().free);
    const info = node.kernel.core.info;
    const k = info.kernel;
    const inImage = (p: number | null): boolean => p !== null && p >= k.physicalStart && p < k.physicalEnd;
    const tablesInImage = [info.bootDirectory, info.bootPageTable].filter(inImage).length; // shown as tables
    expect(tablesInImage).toBe(2);
    expect(await count('kernel')).toBe(Math.ceil((k.physicalEnd - k.physicalStart) / 4096) - tablesInImage);
    await page.click('#frame-map', { position: { x: 1, y: 4 } }); // frame 256: 1 MiB, the kernel's first page
    expect(await page.textContent('#frame-title')).toBe('frame 256 at 0x00100000: kernel image');
    expect(await page.evaluate('location.hash')).toBe('#view=frames&frame=256');
    const first = [...Array(16).keys()].map((i) => node.kernel.core.machine.mem.read8(0x100000 + i));
    const line = (await page.textContent('#frame-bytes'))!.split('\n')[0];
    expect(line.startsWith(`00100000  ${first.map((b) => b.toString(16).padStart(2, '0')).join(' ')}`)).toBe(true);
  });

  it('shows the processes of a `pagelab run --events` file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pagelab-events-'));
    try {
      const logs = readdirSync('test/programs/logs').filter((f) => f.startsWith('fork.'));
      const file = join(dir, 'fork-events.jsonl');
      await cli('run', ...logs.map((f) => `test/programs/logs/${f}`), '--events', file);
      const events = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Partial<Record<string, number>>);
      const page = await open('#view=procs');
      await page.setInputFiles('#proc-file', file);
      await page.waitForSelector('#proc-totals');
      const pids = [...new Set(events.map((e) => Number(e.pid ?? e.to ?? e.child)))].sort((a, b) => a - b);
      expect(await page.locator('#proc-totals tr[data-pid]').count()).toBe(pids.length);
      const forks = events.filter((e) => (e.type as unknown) === 'fork').length;
      expect(forks).toBeGreaterThan(0);
      const text = (await page.textContent('#proc-totals')) ?? '';
      expect([...text.matchAll(/fork (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0)).toBe(forks);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
