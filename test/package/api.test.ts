// The library API's contract, checked on the sources: each entry of src/api/
// exports exactly the names test/package/api-names.ts lists (values at run
// time, types through the compiler), and the README's examples print what they say.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { ENTRIES, ENTRY_SOURCE, TYPE_NAMES, VALUE_NAMES, type Entry } from './api-names.js';
import { readmeExamples, withImportsFrom } from './readme-examples.js';

const API = new URL('../../src/api/', import.meta.url);
const TSX = new URL('../../node_modules/tsx/dist/esm/index.mjs', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'pagelab-api-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** sourceOf is the file URL of the source module behind an entry. */
function sourceOf(entry: string): string {
  return new URL(ENTRY_SOURCE[entry as Entry], API).href;
}

/** declaredExports lists every name (value or type) each entry's source module exports, per the compiler. */
function declaredExports(): Map<Entry, string[]> {
  const files = ENTRIES.map((e) => new URL(ENTRY_SOURCE[e], API).pathname);
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    // Names only: without the standard library and @types/node the program is built in a second, not ten.
    noLib: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const out = new Map<Entry, string[]>();
  ENTRIES.forEach((e, i) => {
    const symbol = checker.getSymbolAtLocation(program.getSourceFile(files[i])!)!;
    out.set(
      e,
      checker.getExportsOfModule(symbol).map((s) => s.name),
    );
  });
  return out;
}

describe('the library entries (src/api)', () => {
  it.each(ENTRIES)('%s exports exactly its listed run-time values', async (entry) => {
    const mod = (await import(sourceOf(entry))) as Record<string, unknown>;
    expect(Object.keys(mod).sort()).toEqual([...VALUE_NAMES[entry]].sort());
    for (const name of VALUE_NAMES[entry]) expect(mod[name], name).not.toBeUndefined();
  });

  it('each entry exports exactly its listed values and types, no name in both lists', () => {
    const declared = declaredExports();
    for (const entry of ENTRIES) {
      expect(
        VALUE_NAMES[entry].filter((n) => TYPE_NAMES[entry].includes(n)),
        entry,
      ).toEqual([]);
      expect([...declared.get(entry)!].sort(), entry).toEqual([...VALUE_NAMES[entry], ...TYPE_NAMES[entry]].sort());
    }
  });

  it('the lists are sorted, so that a change shows where it belongs', () => {
    for (const entry of ENTRIES) {
      for (const list of [VALUE_NAMES[entry], TYPE_NAMES[entry]]) expect([...list].sort(), entry).toEqual(list);
    }
  });

  it('the root entry holds the four layers as namespaces, the same modules as their subpaths', async () => {
    const root = (await import(sourceOf('pagelab'))) as Record<string, Record<string, unknown>>;
    for (const [ns, entry] of [
      ['hw', 'pagelab/hw'],
      ['boot', 'pagelab/boot'],
      ['kernel', 'pagelab/kernel'],
      ['trace', 'pagelab/trace'],
    ] as const) {
      const sub = (await import(sourceOf(entry))) as Record<string, unknown>;
      expect(Object.keys(root[ns]).sort(), ns).toEqual(Object.keys(sub).sort());
      for (const name of Object.keys(sub)) expect(root[ns][name], `${ns}.${name}`).toBe(sub[name]);
    }
  });
});

describe("README.md's Library API examples, run on the sources", () => {
  const examples = readmeExamples();

  it('there are examples, and each promises some output', () => {
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const ex of examples) expect(ex.expected.length).toBeGreaterThan(0);
  });

  it.each(examples.map((ex, i) => [i + 1, ex] as const))('example %i prints what its comments say', (i, ex) => {
    const file = join(tmp, `example-${i}.mjs`);
    writeFileSync(file, withImportsFrom(ex.code, sourceOf));
    const r = spawnSync(process.execPath, ['--import', TSX, file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect([r.status, r.stdout.trimEnd().split('\n')]).toEqual([0, ex.expected]);
  });
});
