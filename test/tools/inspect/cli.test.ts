// `pagelab inspect` through the CLI: output, exit status 1 on lint errors, 2 on bad input.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/tools/cli.js';
import { bytesOf, brokenKernel, seedsKernel } from './layouts.js';
import { capture } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'pagelab-inspect-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** run calls the CLI and collects what it writes. */
async function run(args: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  try {
    const status = await main(args);
    return { status, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = undefined;
  }
}

describe('pagelab inspect (CLI)', () => {
  it("prints QEMU's info mem for a captured dump", async () => {
    const c = capture(2);
    const r = await run(['inspect', c.dump, '--regs', c.registers, '--format', 'info-mem']);
    expect(r.status).toBe(0);
    expect(r.out).toBe(c.infoMem.replace(/\r\n/g, '\n'));
  });

  it('--lint exits 1 on an error finding and 0 on a clean layout', async () => {
    const broken = join(dir, 'broken.bin');
    writeFileSync(broken, bytesOf(brokenKernel()));
    const bad = await run(['inspect', broken, '--cr3', '0x180000', '--cr4', 'pse', '--cr0', 'wp', '--lint']);
    expect(bad.status).toBe(1);
    expect(bad.out).toMatch(/^error +reserved-bit +PDE 771 /m);
    const clean = join(dir, 'clean.bin');
    writeFileSync(clean, bytesOf(seedsKernel()));
    const good = await run(['inspect', clean, '--cr3', '0x180000', '--cr0', 'wp', '--lint']);
    expect(good).toMatchObject({ status: 0, out: 'no findings\n' });
  });

  it('bad input is one line on stderr and exit status 2', async () => {
    const c = capture(1);
    const noCr3 = await run(['inspect', c.dump]);
    expect(noCr3.status).toBe(2);
    expect(noCr3.err).toBe(
      "pagelab: inspect needs --cr3 ADDR, or --regs FILE (QEMU's info registers, or pagelab boot --json output)\n",
    );
    const short = join(dir, 'short.bin');
    writeFileSync(short, new Uint8Array(100));
    const t = await run(['inspect', short, '--cr3', '0']);
    expect(t).toMatchObject({
      status: 2,
      err: expect.stringContaining('truncated memory image: found 100 bytes') as unknown,
    });
    const fmt = await run(['inspect', c.dump, '--cr3', '0', '--format', 'yaml']);
    expect(fmt.status).toBe(2);
  });

  it('options the chosen mode would ignore are refused, one line each', async () => {
    const c = capture(1);
    const base = ['inspect', c.dump, '--regs', c.registers];
    const cases: [string[], string][] = [
      [['--translate', '0xC0000000', '--lint'], '--translate and --lint are separate modes'],
      [['--translate', '0xC0000000', '--format', 'info-mem'], '--format info-mem does not apply to --translate'],
      [['--lint', '--format', 'tree'], '--format tree does not apply to --lint'],
      [['--json', '--format', 'info-tlb'], '--json and --format info-tlb contradict each other'],
      [['--user'], '--user and --access only apply to --translate'],
      [['--access', 'write'], '--user and --access only apply to --translate'],
      [['--crlf'], '--crlf only applies to --format info-mem and info-tlb'],
      [['--ram', '16M'], '--ram: only for --lint'],
      [['--lint', '--ram', '0'], '--ram 0: a size of 0 means nothing here'],
    ];
    for (const [extra, message] of cases) {
      const r = await run([...base, ...extra]);
      expect([r.status, r.err], extra.join(' ')).toEqual([2, expect.stringContaining(message)]);
      expect(r.out).toBe('');
    }
    expect((await run([...base, '--translate', '0xC0000000', '--json'])).status).toBe(0);
  });
});
