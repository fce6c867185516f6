// Imports run one way inside each kernel folder, as they do between layers: no file reaches itself through
// its imports, and the heap checkers import nothing of the heaps they check (they read them through a view).

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../src/kernel', import.meta.url));

/** sources lists every .ts file under `dir`, recursively. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** importsOf lists the files `file` imports (values and types) among our own sources. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'(\.[^']+)\.js'/gms)].map((m) =>
    resolve(dirname(file), `${m[1]}.ts`),
  );
}

/** cycle returns a chain of files (relative to src/kernel) that leads from one back to itself, or null. */
function cycle(files: string[], edges: (f: string) => string[] = importsOf): string[] | null {
  const graph = new Map(files.map((f) => [f, edges(f).filter((g) => files.includes(g))]));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (f: string): string[] | null => {
    if (state.get(f) === 'done') return null;
    if (state.get(f) === 'open') return [...path.slice(path.indexOf(f)), f].map((p) => relative(ROOT, p));
    state.set(f, 'open');
    path.push(f);
    for (const g of graph.get(f) ?? []) {
      const c = visit(g);
      if (c !== null) return c;
    }
    path.pop();
    state.set(f, 'done');
    return null;
  };
  for (const f of files) {
    const c = visit(f);
    if (c !== null) return c;
  }
  return null;
}

describe('kernel imports run one way', () => {
  for (const folder of ['heap', 'frames']) {
    it(`no import circle inside src/kernel/${folder}`, () => {
      const files = sources(join(ROOT, folder));
      expect(files.length).toBeGreaterThan(8);
      expect(cycle(files)).toBeNull();
    });
  }

  it('the heap checkers import nothing of the heaps they check', () => {
    for (const [checker, checked] of [
      ['krcheck.ts', ['kr.ts', 'krlist.ts', 'krbreak.ts', 'krlocate.ts']],
      ['slabcheck.ts', ['slab.ts', 'kr.ts']],
    ] as const) {
      const names = importsOf(join(ROOT, 'heap', checker)).map((p) => relative(join(ROOT, 'heap'), p));
      expect(
        names.filter((n) => (checked as readonly string[]).includes(n)),
        checker,
      ).toEqual([]);
    }
  });

  it('the scan sees the imports, and the detector finds a circle where there is one', () => {
    expect(importsOf(join(ROOT, 'heap', 'kr.ts'))).toContain(join(ROOT, 'heap', 'krcheck.ts'));
    const [a, b, c] = ['/k/a.ts', '/k/b.ts', '/k/c.ts'];
    const edges: Record<string, string[]> = { [a]: [b], [b]: [c], [c]: [a] };
    expect(cycle([a, b, c], (f) => edges[f])?.length).toBe(4);
    edges[c] = [];
    expect(cycle([a, b, c], (f) => edges[f])).toBeNull();
  });
});
