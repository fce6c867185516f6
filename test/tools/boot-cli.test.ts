import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PagelabError } from '../../src/errors.js';
import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { main } from '../../src/tools/cli.js';
import { runBoot } from '../../src/tools/commands/boot.js';
import { parseSize } from '../../src/tools/args.js';
import { DEFAULT_KERNEL, FIXTURES } from '../boot/qemu-fixtures.js';

const schema = JSON.parse(readFileSync(new URL('../../docs/boot.schema.json', import.meta.url), 'utf8')) as object;
const validate = new Ajv({ allErrors: true }).compile(schema);

/** run runs `pagelab boot` with options and returns the printed lines. */
function run(o: Parameters<typeof runBoot>[0]): string[] {
  const lines: string[] = [];
  runBoot(
    { tlb: 'sa:16x4', frames: 'bitmap', ptAccess: 'slot', module: [], ...o },
    (s) => lines.push(...s.split('\n')),
    false,
  );
  return lines;
}

/** json runs `pagelab boot --json` and parses the document. */
function json(o: Parameters<typeof runBoot>[0] = {}): Record<string, unknown> {
  return JSON.parse(run({ ...o, json: true }).join('\n')) as Record<string, unknown>;
}

describe('pagelab boot', () => {
  it('prints the memory map, the kernel extents, each step with CRs and the boot directory', () => {
    const text = run({}).join('\n');
    expect(text).toMatch(/0x000100000 +0x007FE0000 +129920 KiB +1 available/);
    expect(text).toContain('virtual  0xC0100000 - 0xC0108010');
    expect(text).toContain('physical 0x00100000 - 0x00108010');
    expect(text).toMatch(/step 3: enable paging[\s\S]*CR0=0x80010011 CR3=0x00102000 CR4=0x00000000/);
    expect(text).toMatch(/PDE +768 +0xC0000000 +0x001030[0-9A-F]{2} +page table at 0x00103000/);
    expect(text).not.toContain('\u001b['); // no colour off a TTY
  });

  it('--json validates against docs/boot.schema.json, for both forms and a captured structure', () => {
    for (const o of [{}, { pse: true }, { multiboot: join(FIXTURES, 'qemu-m3584.txt') }]) {
      const doc = json(o);
      expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    }
    const doc = json({ pse: true, ram: '16M' });
    expect(doc).toMatchObject({
      ram: 16 * 1024 * 1024,
      cr0: 0x80010011,
      cr3: 0x102000,
      cr4: 0x90,
      bootPageTable: null,
    }); // PGE: set by the kernel VM
    const steps = doc.steps as { cr4: number }[];
    expect(steps[steps.length - 1].cr4).toBe(0x10); // at the hand-off
    expect(doc.kernel).toMatchObject({ virtualStart: 0xc0100000, physicalStart: 0x100000 });
    expect((doc.memoryMap as { base: number }[])[3]).toEqual({
      base: 0x100000,
      length: 16 * 1024 * 1024 - 0x120000,
      type: 1,
    });
  });

  it('the schema rejects a document without the required facts', () => {
    const doc = json();
    delete doc.memoryMap;
    expect(validate(doc)).toBe(false);
    expect(validate({ ...json(), cr3: -1 })).toBe(false);
  });

  it('--dump writes [0, top of RAM) with the kernel at 1 MiB', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pagelab-')), 'ram.img');
    run({ ram: '16M', dump: file });
    expect(statSync(file).size).toBe(16 * 1024 * 1024);
    const img = readFileSync(file);
    expect(img.readUInt32LE(0x100000)).toBe(0x1badb002);
    expect(img.readUInt32LE(0x9500)).toBe(0x24f);
    expect(img.readUInt32LE(0x102000 + 768 * 4) & ~0xfff).toBe(0x103000); // PDE 768 of the boot directory
  });

  it('boots any multiboot ELF32 with --kernel; tables past the end when it has no boot_page_* symbols', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pagelab-'));
    const k = readFileSync(DEFAULT_KERNEL);
    /** Rename the two symbols in .strtab (same length) so that the loader must place the tables itself. */
    const renamed = Buffer.from(
      k
        .toString('latin1')
        .replace('boot_page_directory', 'boot_page_dirXXXXXX')
        .replace('boot_page_table', 'boot_page_tabXX'),
      'latin1',
    );
    writeFileSync(join(dir, 'k.elf'), renamed);
    const doc = json({ kernel: join(dir, 'k.elf') });
    expect(doc.bootDirectory).toBe(0x10a000);
    expect((doc.reserved as { what: string }[]).map((r) => r.what)).toContain('boot page directory');
  });

  it('exits 2 with one line on bad input', async () => {
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = (s: string) => errors.push(s) > 0;
    try {
      expect(await main(['boot', '--ram', '12X'])).toBe(2);
      expect(await main(['boot', '--ram', '1M'])).toBe(2);
      expect(await main(['boot', '--kernel', join(FIXTURES, 'CAPTURE.md')])).toBe(2);
    } finally {
      process.stderr.write = write;
    }
    expect(errors.join('')).toMatch(
      /--ram: expected a size[\s\S]*2 MiB to 4 GiB[\s\S]*expected the ELF magic|a multiboot header/,
    );
  });
});

describe('boot with a captured structure', () => {
  const capture = join(FIXTURES, 'qemu-m128.txt');
  it('refuses a --ram, --module or --cmdline that the capture already decides', () => {
    const run = (o: Record<string, unknown>): void =>
      runBoot({ multiboot: capture, module: [], quiet: true, ...o }, () => {}, false);
    expect(() => run({ ram: '16M' })).toThrow(
      new PagelabError(
        'a RAM size of 16 MiB contradicts the captured memory map, which describes 128 MiB: leave the RAM size out with a captured structure',
      ),
    );
    expect(() => run({ cmdline: 'quiet' })).toThrow(/command line cannot be given/);
    expect(() => run({ module: [capture] })).toThrow(/modules cannot be added/);
    expect(() => run({ ram: '128M' })).not.toThrow();
  });
});

describe('boot strings', () => {
  it('a command line too long for a multiboot string is refused up front, naming the limit', () => {
    const run = (cmdline: string): void => runBoot({ cmdline, module: [], quiet: true }, () => {}, false);
    expect(() => run('a'.repeat(5000))).toThrow(
      new PagelabError('the command line is 5019 bytes long: multiboot strings here are limited to 4095 bytes'),
    );
    expect(() => run('a'.repeat(4000))).not.toThrow();
  });
});

describe('parseSize', () => {
  it('reads binary units and hex', () => {
    expect([
      parseSize('16M'),
      parseSize('4G'),
      parseSize('3584M'),
      parseSize('640K'),
      parseSize('0x1000'),
      parseSize('2MiB'),
    ]).toEqual([16 << 20, 4 * 2 ** 30, 3584 * 2 ** 20, 640 * 1024, 4096, 2 << 20]);
    expect(() => parseSize('4T')).toThrow(/expected a size/);
  });
});
