// The kernel reaches the machine only through what a C kernel has (rule 1): linear-address reads and writes,
// control registers, INVLPG and the hand-off. This scans every source file under src/kernel for the simulator's
// back doors: the MMU's side-effect-free probe, the simulator's RAM size and the TLB's internals.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../src/kernel', import.meta.url));

/** FORBIDDEN names each back door and a pattern that finds its use in code (comments are stripped first). */
const FORBIDDEN: [string, RegExp][] = [
  ['the MMU probe', /\.probe\s*\(/],
  ["the simulator's RAM size", /\bmem\s*\.\s*top\b/],
  ["the TLB's internals", /\bmmu\s*\.\s*tlb\b|\.tlb\s*\.\s*\w/],
];

/** sources lists every .ts file under `dir`, recursively. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** stripComments removes // and block comments (prose may name the probe; code may not call it). */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** backDoors lists `file:line: what` for every forbidden use in the given sources. */
function backDoors(files: string[]): string[] {
  const found: string[] = [];
  for (const f of files) {
    stripComments(readFileSync(f, 'utf8'))
      .split('\n')
      .forEach((line, i) => {
        for (const [what, re] of FORBIDDEN) if (re.test(line)) found.push(`${relative(ROOT, f)}:${i + 1}: ${what}`);
      });
  }
  return found;
}

describe('kernel code calls nothing a C kernel could not', () => {
  it('no file under src/kernel probes the MMU, reads mem.top or reaches into the TLB', () => {
    const files = sources(ROOT);
    expect(files.length).toBeGreaterThan(30);
    expect(backDoors(files)).toEqual([]);
  });

  it('the scan finds each back door in code and ignores it in comments', () => {
    const code = [
      'const w = heap.machine.mmu.probe(page, ACCESS_WRITE, false);',
      'const top = machine.mem.top;',
      'const n = this.machine.mmu.tlb.hits;',
    ];
    for (const [i, line] of code.entries()) expect(FORBIDDEN[i][1].test(stripComments(line)), line).toBe(true);
    expect(stripComments('// unlike mmu.probe(x), mem.top\n/* mmu.tlb.hits */ f();')).not.toMatch(/probe|top|tlb/);
  });
});
