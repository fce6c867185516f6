// The package as a user gets it: `npm pack` (which builds it, prepack), the
// tarball installed into an empty folder and globally (under a temporary
// prefix), then the command and the library used from there. The tarball's
// file list is checked against the sources, and its size against a bound.
import { execFile, type ExecFileException } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replay, traceFromRecords, type ReplayResult } from '../../src/api/trace.js';
import { ENTRIES, TYPE_NAMES, VALUE_NAMES } from './api-names.js';
import { readmeExamples } from './readme-examples.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = join(ROOT, 'node_modules/tsx/dist/esm/index.mjs');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
/** Bounds on the tarball: about twice today's (195 KB packed, 635 KB unpacked); test/ alone is 1.9 MB. */
const MAX_PACKED = 400_000;
const MAX_UNPACKED = 1_600_000;
/** What the package ships besides the build of src/. */
const SHIPPED = [
  'LICENSE',
  'README.md',
  'bin/pagelab.js',
  'docs/boot.schema.json',
  'kernel/pagelab-kernel.elf',
  'package.json',
];

interface Packed {
  readonly filename: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly entryCount: number;
  readonly files: readonly { readonly path: string }[];
}
interface Run {
  readonly status: number;
  readonly out: string;
  readonly err: string;
}

/**
 * npm run from a test inherits the outer npm's configuration as npm_* variables
 * (npm_config_local_prefix is this repository): keep only those that describe
 * the machine (cache, certificates, registry, proxies), so that each npm below
 * works on its own folder.
 */
const KEEP_NPM = /^npm_config_(cache|cafile|userconfig|globalconfig|registry|noproxy|proxy|https_proxy|strict_ssl)$/i;
const ENV = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => (!/^npm_/i.test(k) || KEEP_NPM.test(k)) && k !== 'INIT_CWD'),
);

/** run executes a program and gives its status and output (a failure is a result, not a throw). */
function run(file: string, args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: ENV, maxBuffer: 64 << 20, encoding: 'utf8' }, (e, out, err) => {
      resolve({ status: statusOf(e), out, err });
    });
  });
}

/** statusOf is a child's exit status: 0, its code, or -1 when it could not run or was killed. */
function statusOf(e: ExecFileException | null): number {
  if (e === null) return 0;
  return typeof e.code === 'number' ? e.code : -1;
}

/** ok runs a program that must succeed, and gives its standard output. */
async function ok(file: string, args: readonly string[], cwd: string): Promise<string> {
  const r = await run(file, args, cwd);
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.err}${r.out}`);
  return r.out;
}

/** sourceFiles lists src/**\/*.ts relative to the repository. */
function sourceFiles(dir = join(ROOT, 'src')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory()
      ? sourceFiles(join(dir, d.name))
      : d.name.endsWith('.ts')
        ? [relative(ROOT, join(dir, d.name))]
        : [],
  );
}

/** lackeyTrace is a deterministic trace over 48 pages in lackey's text form, and its records. */
function lackeyTrace(n: number): { text: string; records: [number, string][] } {
  const records: [number, string][] = [];
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    records.push([0x08048000 + ((x >>> 8) % (48 * 4096)), 'ILSM'.charAt(x & 3)]);
  }
  const line = ([a, k]: [number, string]): string =>
    `${k === 'I' ? 'I ' : ` ${k}`} ${a.toString(16).padStart(8, '0')},4`;
  return { text: `==1== a generated trace\n${records.map(line).join('\n')}\n`, records };
}

let tmp = '';
let packed: Packed;
let consumer = '';
let globalBin = '';

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'pagelab-pack-'));
  packed = (
    JSON.parse(await ok('npm', ['pack', '--json', '--pack-destination', tmp, ...NPM_FLAGS], ROOT)) as Packed[]
  )[0]!;
  const tarball = join(tmp, packed.filename);
  consumer = join(tmp, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const prefix = join(tmp, 'global');
  globalBin = join(prefix, 'bin', 'pagelab');
  await Promise.all([
    ok('npm', ['install', tarball, ...NPM_FLAGS], consumer),
    ok('npm', ['install', '--global', '--prefix', prefix, tarball, ...NPM_FLAGS], tmp),
  ]);
}, 180_000);

afterAll(() => {
  if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
});

/** pagelab runs the installed command through npx in the consumer folder (never from the registry: --no). */
function pagelab(...args: string[]): Promise<Run> {
  return run('npx', ['--no', '--', 'pagelab', ...args], consumer);
}

/** fromSources runs the same command line from the sources, for comparison. */
function fromSources(...args: string[]): Promise<string> {
  return ok(process.execPath, ['--import', TSX, join(ROOT, 'src/tools/bin.ts'), ...args], ROOT);
}

describe('the packed tarball', () => {
  it('holds the build of every source file, the kernel image and the schemas: no tests, benches or sources', () => {
    const paths = packed.files.map((f) => f.path).sort();
    const built = sourceFiles().flatMap((f) => [
      `dist/${f.replace(/\.ts$/, '.js')}`,
      `dist/${f.replace(/\.ts$/, '.d.ts')}`,
    ]);
    expect(paths).toEqual([...SHIPPED, ...built].sort());
    expect(paths.filter((p) => /^(test|bench|src|web\/src)\//.test(p) || /(?<!\.d)\.ts$|\.map$/.test(p))).toEqual([]);
    expect(packed.entryCount).toBe(paths.length);
  });

  it(`is at most ${MAX_PACKED / 1000} KB packed and ${MAX_UNPACKED / 1e6} MB unpacked`, () => {
    expect(packed.size).toBeLessThanOrEqual(MAX_PACKED);
    expect(packed.unpackedSize).toBeLessThanOrEqual(MAX_UNPACKED);
  });

  it('runs no script when installed, and every export it names is in it', () => {
    const installed = join(consumer, 'node_modules', PKG.name);
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      exports: Record<string, string | { types: string; default: string }>;
    };
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare'])
      expect(pkg.scripts[hook], hook).toBeUndefined();
    const targets = Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : [t.types, t.default]));
    expect(targets.length).toBe(2 * ENTRIES.length + 1);
    for (const t of targets) expect(packed.files.map((f) => `./${f.path}`)).toContain(t);
  });
});

describe('the command from the installed package', () => {
  it('`npx pagelab boot --quiet` prints what the sources print', async () => {
    const [installed, source] = await Promise.all([pagelab('boot', '--quiet'), fromSources('boot', '--quiet')]);
    expect([installed.status, installed.err]).toEqual([0, '']);
    expect(installed.out).toMatch(/^pagelab boot: pagelab-kernel\.elf, 128 MiB RAM/);
    expect(installed.out).toBe(source);
  });

  it('`npx pagelab --version` prints the package version', async () => {
    const r = await pagelab('--version');
    expect([r.status, r.out.trim()]).toEqual([0, PKG.version]);
  });

  it('`npm install --global` gives a working `pagelab`', async () => {
    expect((await ok(globalBin, ['--version'], tmp)).trim()).toBe(PKG.version);
    expect(await ok(globalBin, ['translate', '0xC0100000'], tmp)).toBe(await fromSources('translate', '0xC0100000'));
  });

  it(`\`pagelab replay --sweep\` gives the library's counters (${availableParallelism() >= 2 ? 'on worker threads: the compiled worker ships' : 'one core: no worker thread'})`, async () => {
    const { text, records } = lackeyTrace(3000);
    writeFileSync(join(tmp, 'trace.lackey'), text);
    const r = await pagelab('replay', join(tmp, 'trace.lackey'), '--sweep', 'fa:4,dm:16', '--json', '--no-progress');
    expect([r.status, r.err]).toEqual([0, '']);
    const counters = (x: ReplayResult): Partial<ReplayResult> => ({
      ...x,
      seconds: 0,
      maccesses_per_s: 0,
      cpu_seconds: 0,
    });
    const got = (JSON.parse(r.out) as { sweep: ReplayResult[] }).sweep.map(counters);
    const want = ['fa:4', 'dm:16'].map((tlb) => counters(replay(traceFromRecords(records), { tlb })));
    expect(got).toEqual(want);
  });
});

describe('the library from the installed package', () => {
  it('a plain ESM script imports every entry, each with exactly its listed names', async () => {
    const script = `for (const e of ${JSON.stringify(ENTRIES)}) console.log(JSON.stringify(Object.keys(await import(e)).sort()));`;
    writeFileSync(join(consumer, 'names.mjs'), script);
    const lines = (await ok(process.execPath, ['names.mjs'], consumer)).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l) as string[])).toEqual(ENTRIES.map((e) => [...VALUE_NAMES[e]].sort()));
  });

  it('the internals stay out of reach (no deep imports)', async () => {
    writeFileSync(join(consumer, 'deep.mjs'), "await import('pagelab/dist/src/hw/walk.js');");
    const r = await run(process.execPath, ['deep.mjs'], consumer);
    expect(r.status).not.toBe(0);
    expect(r.err).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it.each(readmeExamples().map((ex, i) => [i + 1, ex] as const))(
    "README.md's Library API example %i runs as written and prints what it says",
    async (i, ex) => {
      writeFileSync(join(consumer, `readme-${i}.mjs`), ex.code);
      const out = await ok(process.execPath, [`readme-${i}.mjs`], consumer);
      expect(out.trimEnd().split('\n')).toEqual(ex.expected);
    },
  );

  it('a TypeScript consumer type-checks against the shipped declarations, every listed name among them', async () => {
    writeFileSync(join(consumer, 'consumer.ts'), typedConsumer());
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          // The declarations are checked where the consumer uses them; checking all of @types/node costs 20 s.
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules/@types')],
        },
        files: ['consumer.ts'],
      }),
    );
    const r = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], consumer);
    expect(r.out + r.err).toBe('');
    expect(r.status).toBe(0);
  });
});

/**
 * typedConsumer is a TypeScript program using the API as a consumer would,
 * naming every listed value and type, with uses the declarations must refuse.
 */
function typedConsumer(): string {
  const names = ENTRIES.map((e, i) => [
    `import * as e${i} from '${e}';`,
    ...VALUE_NAMES[e].map((v) => `void e${i}.${v};`),
    ...TYPE_NAMES[e].map((t) => `export type E${i}_${t} = e${i}.${t};`),
  ]);
  return `${names.flat().join('\n')}
import { ACCESS_READ, Machine, lin, type LinAddr, type PhysAddr } from 'pagelab/hw';
import { boot, type BootResult } from 'pagelab/boot';
import { kernelInit, type Kernel } from 'pagelab/kernel';
import { replay, traceFromRecords, type ReplayResult } from 'pagelab/trace';
// @ts-expect-error: the walk's fast path is internal
import { walkFast } from 'pagelab/hw';
// @ts-expect-error: no deep imports
import type { WalkState } from 'pagelab/dist/src/hw/walk.js';

const m: Machine = new Machine({ ram: 16 * 1024 * 1024, tlb: 'fa:64' });
const p: number = m.mmu.translate(0x1000, ACCESS_READ);
const booted: BootResult = boot({ ram: 32 * 1024 * 1024 });
const k: Kernel = kernelInit(booted.info, { frames: 'bitmap', heap: 'slab' });
const a: LinAddr | null = k.heap.kmalloc(16);
const f: PhysAddr | null = k.frames.alloc();
const r: ReplayResult = replay(traceFromRecords([[0x1000, 'L']]), { tlb: 'fa:4' });
// @ts-expect-error: a plain number is no LinAddr (the brands reach the declarations)
const bad: LinAddr = 0x1000;
// @ts-expect-error: no such frame strategy
kernelInit(booted.info, { frames: 'slab' });
export { p, a, f, r, bad };
`;
}
