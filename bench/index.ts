// Runs every bench/*.bench.ts in turn (or only those whose name contains an
// argument): `npm run bench`, `npm run bench -- mmu`. With `--markdown`, the
// tables the benches record (bench/table.ts) are written into BENCHMARKS.md:
// one section per bench, headed by the commit, the date, Node's version, the
// machine and the command; sections of benches not run this time are kept.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TableRecord } from './table.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const BENCHMARKS = join(root, 'BENCHMARKS.md');
const RECORDED = join(root, 'docs', 'conformance-runs.md');

/** What each bench measures, for its section's heading. */
const TITLES: Readonly<Record<string, string>> = {
  mmu: 'The MMU: TLB hits, walks, machine creation',
  frames: 'Frame allocators: bitmap, free list, buddy',
  heap: 'Kernel heap: K&R and slab',
  replay: 'Trace replay against C',
  procaccess: "Processes: the kernel's user-access path and demand-zero faults",
  run: 'Processes: `pagelab run` beside `replay`',
  swap: 'Swap: paging heavily and not',
};

/** benchNames lists the benches (file names without `.bench.ts`), sorted. */
function benchNames(): string[] {
  return readdirSync(here)
    .filter((f) => f.endsWith('.bench.ts'))
    .map((f) => f.slice(0, -'.bench.ts'.length))
    .sort();
}

/** runBench runs one bench in its own process, echoing its output; its tables go to `out` when given. */
async function runBench(name: string, out: string | null): Promise<{ ok: boolean; stdout: string }> {
  console.log(`\n=== ${name}.bench.ts`);
  const env = out === null ? process.env : { ...process.env, PAGELAB_BENCH_OUT: out };
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, `${name}.bench.ts`)], {
    stdio: ['inherit', 'pipe', 'inherit'],
    env,
  });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => {
    chunks.push(b);
    process.stdout.write(b);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { ok: code === 0, stdout: Buffer.concat(chunks).toString('utf8') };
}

/** git runs a git command in the repository and returns its trimmed output ('' if git fails). */
function git(...args: string[]): string {
  const r = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

/** provenance says where and when the figures were measured. */
function provenance(): string {
  const commit = git('rev-parse', '--short', 'HEAD') || 'unknown';
  const dirty = git('status', '--porcelain', '--untracked-files=no') === '' ? '' : ' (with uncommitted changes)';
  const cpu = cpus();
  const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB`;
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  return (
    `commit \`${commit}\`${dirty} · ${date} UTC · Node ${process.version} · ${machine} · ` +
    `load average ${loadavg()[0].toFixed(1)} at the start`
  );
}

/** knobs gives the benches' size settings set in the environment (MMU_N=..., FRAMES_PAIRS=...) as a prefix. */
function knobs(): string {
  return Object.entries(process.env)
    .filter(([k]) => /^(MMU|FRAMES|HEAP|REPLAY|RUN|SWAP)_/.test(k))
    .map(([k, v]) => `${k}=${v ?? ''} `)
    .sort()
    .join('');
}

/** cell escapes a table cell for markdown. */
function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

/** tableMarkdown renders one recorded table. */
function tableMarkdown(t: TableRecord): string[] {
  const lines = [`**${t.title}**`, '', `| ${t.columns.map(cell).join(' | ')} |`];
  lines.push(`| ${t.columns.map((_, i) => (t.left[i] ? '---' : '---:')).join(' | ')} |`);
  for (const r of t.rows) lines.push(`| ${r.map(cell).join(' | ')} |`);
  if (t.notes.length > 0) lines.push('', ...t.notes);
  return [...lines, ''];
}

/** sectionMarkdown renders one bench's section (its tables, else its output), between markers the next run finds. */
function sectionMarkdown(name: string, tables: readonly TableRecord[], stdout: string, where: string): string {
  const body = tables.length > 0 ? tables.flatMap(tableMarkdown) : ['```', stdout.trimEnd(), '```', ''];
  const head = [`<!-- bench:${name} -->`, `## ${TITLES[name] ?? name}`, ''];
  const cmd = [`\`${knobs()}npm run bench -- ${name}\` · ${where}`, ''];
  return [...head, ...cmd, ...body, `<!-- /bench:${name} -->`].join('\n');
}

/** keptSections reads the sections of the current BENCHMARKS.md, by bench name. */
function keptSections(): Map<string, string> {
  const kept = new Map<string, string>();
  if (!existsSync(BENCHMARKS)) return kept;
  const text = readFileSync(BENCHMARKS, 'utf8');
  for (const m of text.matchAll(/<!-- bench:([\w-]+) -->[\s\S]*?<!-- \/bench:\1 -->/g)) kept.set(m[1], m[0]);
  return kept;
}

/** writeMarkdown writes BENCHMARKS.md from the sections measured now and those kept from before. */
function writeMarkdown(fresh: Map<string, string>): void {
  const kept = keptSections();
  const names = [...new Set([...benchNames(), ...kept.keys()])].filter((n) => fresh.has(n) || kept.has(n));
  const header = [
    '# Benchmarks',
    '',
    'Generated by `npm run bench -- --markdown [NAME...]` (bench/index.ts): each section is one bench, headed by the',
    'commit, date, Node version and machine it ran on, with its command; a run of some benches keeps the other',
    'sections as they were. What was tried and what each idea was worth: [docs/performance.md](docs/performance.md).',
    '',
  ];
  const sections = names.map((n) => fresh.get(n) ?? kept.get(n) ?? '');
  const recorded = existsSync(RECORDED) ? ['', readFileSync(RECORDED, 'utf8').trim(), ''] : [];
  writeFileSync(BENCHMARKS, [...header, sections.join('\n\n'), ...recorded].join('\n').trimEnd() + '\n');
  console.log(`\nwrote ${BENCHMARKS} (${fresh.size} section(s) measured now, ${names.length - fresh.size} kept)`);
}

/** main runs the chosen benches, and writes BENCHMARKS.md with --markdown. */
async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const markdown = args.includes('--markdown');
  const filters = args.filter((a) => a !== '--markdown');
  const all = benchNames();
  const chosen = all.filter((n) => filters.length === 0 || filters.some((x) => n.includes(x)));
  if (chosen.length === 0) {
    console.error(`no benchmark matched ${filters.join(', ')}: the benchmarks are ${all.join(', ')}`);
    return 1;
  }
  const dir = markdown ? mkdtempSync(join(tmpdir(), 'pagelab-bench-')) : null;
  const fresh = new Map<string, string>();
  let failed = 0;
  for (const name of chosen) {
    const out = dir === null ? null : join(dir, `${name}.jsonl`);
    const where = provenance();
    const r = await runBench(name, out);
    if (!r.ok) failed++;
    else if (out !== null) fresh.set(name, sectionMarkdown(name, readTables(out), r.stdout, where));
  }
  if (dir !== null) {
    if (failed === 0) writeMarkdown(fresh);
    else console.error('a bench failed: BENCHMARKS.md left as it was');
    rmSync(dir, { recursive: true, force: true });
  }
  return failed === 0 ? 0 : 1;
}

/** readTables reads the JSON lines a bench appended (none if it recorded no table). */
function readTables(file: string): TableRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as TableRecord);
}

process.exit(await main());
