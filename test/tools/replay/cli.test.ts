// `pagelab replay` and `pagelab trace convert` through the CLI entry point.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/tools/cli.js';

const SMALL = new URL('../../fixtures/replay/small.lackey', import.meta.url).pathname;
let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pagelab-replay-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** run calls the CLI and captures what it writes. */
async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
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
    return { code: await main(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const KEYS = [
  'records',
  'hits',
  'misses',
  'walks',
  'demand_faults',
  'page_tables',
  'frames_used',
  'dirty_pages',
  'dirty_sets',
  'phys_hash',
  'seconds',
  'maccesses_per_s',
];

describe('pagelab replay', () => {
  it("--json prints one object with the issue's keys", async () => {
    const r = await run('replay', SMALL, '--json', '--tlb', 'fa:2', '--repeat', '2');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as Record<string, unknown>;
    for (const k of KEYS) expect(j).toHaveProperty(k);
    expect(j).toMatchObject({
      records: 7,
      hits: 2,
      misses: 5,
      walks: 5,
      demand_faults: 3,
      page_tables: 2,
      frames_used: 6,
      dirty_pages: 3,
      dirty_sets: 1,
    });
    expect(j.phys_hash).toMatch(/^[0-9a-f]{8}$/);
    expect(r.out.trim().split('\n')).toHaveLength(1);
  });

  it('prints a human summary by default', async () => {
    const r = await run('replay', SMALL, '--tlb', 'dm:2', '--ram', '1M');
    expect(r.code).toBe(0);
    expect(r.out).toContain('7 records (I 2, L 2, S 2, M 1)');
    expect(r.out).toContain('3 hits, 4 misses');
    expect(r.out).toContain('RAM 1 MiB, TLB dm:2');
  });

  it('sweeps on worker threads, prints a table and writes an SVG plot', async () => {
    const svg = join(dir, 'p.svg');
    const r = await run('replay', SMALL, '--sweep', 'fa:1,2,4,dm:1,2,sa:1x2,2x2', '--plot', svg);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[1]).toMatch(/^tlb\s+hits\s+misses\s+miss rate/);
    expect(lines.slice(2, 9).map((l) => l.split(/\s+/)[0])).toEqual([
      'fa:1',
      'fa:2',
      'fa:4',
      'dm:1',
      'dm:2',
      'sa:1x2',
      'sa:2x2',
    ]);
    expect(lines[3]).toMatch(/^fa:2\s+2\s+5\s/);
    const plot = readFileSync(svg, 'utf8');
    expect(plot).toMatch(/^<svg /);
    expect(plot).toContain('fully associative');
    expect(plot).toContain('TLB entries (log2 scale)');
  });

  it('sweep --json gives every configuration the same phys_hash', async () => {
    const html = join(dir, 'p.html');
    const r = await run('replay', SMALL, '--json', '--sweep', 'none,fa:1,2,dm:4', '--plot', html);
    const j = JSON.parse(r.out) as { sweep: Array<{ tlb: string; phys_hash: string }> };
    expect(j.sweep.map((s) => s.tlb)).toEqual(['none', 'fa:1', 'fa:2', 'dm:4']);
    expect(new Set(j.sweep.map((s) => s.phys_hash)).size).toBe(1);
    expect(readFileSync(html, 'utf8')).toContain('<table>');
  });

  it('fails with status 2 and the line of a malformed record', async () => {
    const f = join(dir, 'bad.lackey');
    writeFileSync(f, 'I  1000,4\nI  1004\n');
    const r = await run('replay', f);
    expect(r.code).toBe(2);
    expect(r.err).toContain('at line 2');
    const lenient = await run('replay', f, '--lenient', '--json');
    expect(lenient.code).toBe(0);
    expect(JSON.parse(lenient.out)).toMatchObject({ records: 1 });
  });

  it('rejects bad options with status 2', async () => {
    for (const args of [
      ['--tlb', 'fa:x'],
      ['--ram', 'lots'],
      ['--model', 'linux'],
      ['--repeat', '0'],
      ['--plot', 'x.svg'],
      ['--sweep', '8,16'],
    ]) {
      const r = await run('replay', SMALL, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/^pagelab: /);
    }
  });

  it('explains a malformed sweep, and refuses --tlb beside --sweep', async () => {
    const cases: [string[], string][] = [
      [['--sweep', 'fa:'], "pagelab: --sweep fa:: 'fa:' needs a size after the colon (e.g. fa:64)\n"],
      [
        ['--sweep', 'fa:8,,16'],
        'pagelab: --sweep "fa:8,,16": an empty item (expected e.g. fa:8,16,32 or dm:64,sa:16x4)\n',
      ],
      [
        ['--tlb', 'dm:8', '--sweep', 'fa:8'],
        'pagelab: --tlb and --sweep exclude each other: --sweep lists the configurations\n',
      ],
    ];
    for (const [args, err] of cases)
      expect(await run('replay', SMALL, ...args), args.join(' ')).toMatchObject({ code: 2, out: '', err });
  });
});

describe('pagelab trace convert', () => {
  it('writes the binary form, which replays to the same counters', async () => {
    const bin = join(dir, 'small.bin');
    const c = await run('trace', 'convert', SMALL, bin);
    expect(c.code).toBe(0);
    expect(c.out).toContain('7 records');
    expect(readFileSync(bin).length).toBe(70);
    const a = JSON.parse((await run('replay', SMALL, '--json')).out) as Record<string, unknown>;
    const b = JSON.parse((await run('replay', bin, '--json')).out) as Record<string, unknown>;
    for (const k of KEYS.slice(0, 10)) expect(b[k], k).toEqual(a[k]);
  });

  it('refuses an output name that is not .bin or .bin.gz', async () => {
    const r = await run('trace', 'convert', SMALL, join(dir, 'out.txt'));
    expect(r.code).toBe(2);
    expect(existsSync(join(dir, 'out.txt'))).toBe(false);
  });
});
