// One-line refusals for the remaining hostile inputs of issue 14 (item 5): each names what was wrong, exit 2.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pagelab, tempDir } from './cli.js';

/** refused checks exit 2 and exactly one `pagelab:` line matching the pattern, no stack trace. */
function refused(r: { status: number | null; err: string }, pattern: RegExp): void {
  expect(r.status, r.err).toBe(2);
  const lines = r.err.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^pagelab: /);
  expect(lines[0]).toMatch(pattern);
}

describe('messages for what the option parsers let through', () => {
  let dir = '';
  let image = '';
  let regs = '';
  beforeAll(() => {
    dir = tempDir();
    image = join(dir, 'mem.bin');
    regs = join(dir, 'boot.json');
    const r = pagelab(['boot', '--dump', image, '--json']);
    expect(r.status, r.err).toBe(0);
    writeFileSync(regs, r.out);
  });

  it('a command line with a character outside Latin-1 is refused naming it and where it is', () => {
    refused(pagelab(['boot', '--cmdline', 'h\u00e9\u2713']), /\(U\+2713\) at character 3: .*Latin-1/);
    expect(pagelab(['boot', '--cmdline', 'h\u00e9']).status).toBe(0); // Latin-1 itself is fine
  });

  it('a dump to a full device says the device is full', () => {
    refused(pagelab(['boot', '--dump', '/dev/full']), /--dump \/dev\/full: cannot write: ENOSPC \(no space left/);
  });

  it('a register file without a CR line says how many lines it looked at', () => {
    const r = join(dir, 'r.txt');
    writeFileSync(r, 'EAX=00000000\nfoo\n');
    refused(pagelab(['inspect', image, '--regs', r]), /at line 2: .*none of its 2 line\(s\) has one/);
  });

  it('--code with a length of 0 or past 4 GiB, and a --ram that is not whole pages, are refused', () => {
    const lint = ['inspect', image, '--regs', regs, '--lint'];
    refused(pagelab([...lint, '--code', '0x1000+0']), /--code 0x1000\+0: a length of 0 holds no code/);
    refused(pagelab([...lint, '--code', '0xfffff000+0x2000']), /past the 4 GiB linear address space/);
    refused(pagelab([...lint, '--ram', '5000']), /--ram 5000: expected a multiple of 4 KiB up to 4 GiB/);
  });
});
