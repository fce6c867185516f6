// `pagelab policy`: the classroom page-replacement simulator. A reference
// string (--pages, --file, or the pages a trace touches with --log) runs
// through each policy with each frame budget; every access is printed (hit or
// miss, the frames, the victim) with the totals that OS courses grade by.

import { Option, type Command } from 'commander';
import { PagelabError } from '../../errors.js';
import { EMPTY } from '../policy/frames.js';
import { logRefs } from '../policy/logrefs.js';
import { parsePolicies, type PolicyName, type PolicySettings } from '../policy/policies.js';
import { parseRefs, type RefString } from '../policy/refs.js';
import { simulate, type PolicyResult, type Step } from '../policy/simulate.js';
import { readInput } from '../io/input.js';

interface PolicyOptions {
  pages?: string;
  file?: string;
  log?: string;
  frames: string;
  policy: string;
  seed: string;
  tick: string;
  steps?: boolean;
  json?: boolean;
}

/** References up to which the steps are printed unless --steps or --no-steps says otherwise. */
const STEPS_BY_DEFAULT = 500;
/** The largest reference-string file read whole (a text form of 10^7 references). */
const MAX_REF_FILE = 64 << 20;

export function registerPolicy(program: Command): void {
  program
    .command('policy')
    .description('run a page-reference string through the replacement policies (hits, misses, victims, totals)')
    .option('--pages <list>', 'the reference string: pages separated by commas or spaces, a w suffix for a write')
    .option('--file <file>', 'read the reference string from a file (same form, # comments)')
    .option('--log <trace>', 'the pages a lackey or binary trace touches (stores and modifies write)')
    .requiredOption('--frames <n,...>', 'frames available (one budget or a comma-separated list)')
    .addOption(
      new Option('--policy <names>', 'policies: all, or a list of fifo,lru,opt,clock,rand,nru,aging,arc').default(
        'all',
      ),
    )
    .option('--seed <n>', "rand's seed", '1')
    .option('--tick <n>', 'references between two samplings of the A bits (nru, aging)', '8')
    .option('--steps', `print every access (the default up to ${STEPS_BY_DEFAULT} references)`)
    .option('--no-steps', 'print the totals only')
    .option('--json', 'print one JSON document')
    .action(async (o: PolicyOptions) => {
      await runPolicy(o, (s) => process.stdout.write(s));
    });
}

/** runPolicy reads the references, runs every (frames, policy) pair and writes the report through `out`. */
export async function runPolicy(o: PolicyOptions, out: (text: string) => void): Promise<PolicyResult[]> {
  const refs = await readRefs(o);
  const budgets = parseList(o.frames, '--frames', 1, 1 << 20);
  const policies = parsePolicies(o.policy);
  const settings: PolicySettings = {
    seed: parseList(o.seed, '--seed', 1, 0xffffffff)[0],
    tick: parseList(o.tick, '--tick', 1, 1 << 30)[0],
  };
  const steps = o.steps ?? refs.length <= STEPS_BY_DEFAULT;
  const json = o.json === true;
  const results: PolicyResult[] = [];
  const docs: string[] = [];
  for (const frames of budgets) {
    for (const p of policies) {
      const { result, doc } = runOne(refs, { frames, policy: p, settings, steps, json }, out);
      results.push(result);
      docs.push(doc);
    }
  }
  if (json) out(`{"references":${refs.length},"results":[${docs.join(',')}]}\n`);
  else if (results.length > 1) out(summaryTable(results));
  return results;
}

/** One run of the report: a budget, a policy, and how to print it. */
interface RunSpec {
  readonly frames: number;
  readonly policy: PolicyName;
  readonly settings: PolicySettings;
  readonly steps: boolean;
  readonly json: boolean;
}

/** runOne simulates one (frames, policy) pair, writing its text through `out` or returning its JSON. */
function runOne(refs: RefString, r: RunSpec, out: (text: string) => void): { result: PolicyResult; doc: string } {
  const lines = new Chunked(out);
  const stepsJson: string[] = [];
  let observe: ((s: Step) => void) | undefined;
  if (!r.json) lines.add(`${r.policy}, ${r.frames} frame${r.frames === 1 ? '' : 's'}, ${refs.length} references`);
  if (r.steps && r.json) observe = (s) => stepsJson.push(stepJson(s));
  else if (r.steps) {
    lines.add(stepHeader(r.frames));
    observe = (s) => lines.add(stepRow(s, r.frames));
  }
  const result = simulate(refs, r.frames, r.policy, r.settings, observe);
  if (r.json) return { result, doc: resultJson(result, r.steps ? stepsJson : null) };
  lines.add(totalLines(result)).add('').flush();
  return { result, doc: '' };
}

/** readRefs takes the reference string from exactly one of --pages, --file and --log. */
async function readRefs(o: PolicyOptions): Promise<RefString> {
  const given = [o.pages, o.file, o.log].filter((x) => x !== undefined).length;
  if (given !== 1) throw new PagelabError('give the references with one of --pages, --file or --log');
  if (o.pages !== undefined) return parseRefs(o.pages, '--pages');
  if (o.file !== undefined) return parseRefs(readText(o.file), o.file);
  const refs = await logRefs(o.log as string);
  if (refs.length === 0) throw new PagelabError(`${o.log}: the trace has no accesses`);
  return refs;
}

/** readText reads a reference-string file (a file, a pipe or `-`) of at most MAX_REF_FILE bytes. */
function readText(path: string): string {
  return Buffer.from(readInput(path, '--file', MAX_REF_FILE)).toString('latin1');
}

/** parseList reads a comma-separated list of whole numbers in [min, max]. */
function parseList(spec: string, option: string, min: number, max: number): number[] {
  return spec.split(',').map((s) => {
    const v = /^\s*(0x[0-9a-f]+|\d+)\s*$/i.test(s) ? Number(s) : NaN;
    if (!Number.isSafeInteger(v) || v < min || v > max)
      throw new PagelabError(`${option}: expected whole numbers from ${min} to ${max}, got ${JSON.stringify(s)}`);
    return v;
  });
}

/** Lines gathered and written in large pieces (a log's steps can be millions of lines). */
class Chunked {
  private buf: string[] = [];
  private size = 0;
  constructor(private readonly out: (text: string) => void) {}
  /** add appends a line (no newline in it), writing the gathered text past 64 KiB. */
  add(line: string): this {
    this.buf.push(line);
    this.size += line.length + 1;
    if (this.size > 1 << 16) this.flush();
    return this;
  }
  /** flush writes what is gathered. */
  flush(): this {
    if (this.buf.length > 0) this.out(this.buf.join('\n') + '\n');
    this.buf = [];
    this.size = 0;
    return this;
  }
}

/** stepHeader is the heading of the step rows. */
function stepHeader(frames: number): string {
  return `${'#'.padStart(8)}  ${'ref'.padEnd(8)}  result  ${'frames'.padEnd(framesWidth(frames))}  victim`;
}

/** framesWidth is a width for the frames column that fits small budgets. */
function framesWidth(frames: number): number {
  return Math.min(Math.max(frames * 2, 6), 40);
}

/** stepRow is one access as a text row: number, reference, hit or miss, the frames in order, the victim. */
function stepRow(s: Step, frames: number): string {
  const ref = `${s.page}${s.write ? 'w' : ''}`;
  const cells = Array.from(s.frames, (p) => (p === EMPTY ? '.' : String(p))).join(' ');
  const victim = s.victim === EMPTY ? '-' : `${s.victim}${s.written ? ' (written)' : ''}`;
  return `${String(s.index).padStart(8)}  ${ref.padEnd(8)}  ${s.hit ? 'hit ' : 'miss'}    ${cells.padEnd(framesWidth(frames))}  ${victim}`;
}

/** stepJson is one access as JSON: index, page, write, hit, victim (or null), written, frames (null: empty). */
function stepJson(s: Step): string {
  const frames = Array.from(s.frames, (p) => (p === EMPTY ? null : p));
  const victim = s.victim === EMPTY ? null : s.victim;
  return JSON.stringify({
    index: s.index,
    page: s.page,
    write: s.write,
    hit: s.hit,
    victim,
    written: s.written,
    frames,
  });
}

/** totalLines are the totals in vmsim's words, with OSTEP's hit rate. */
function totalLines(r: PolicyResult): string {
  return (
    `Total page faults: ${r.faults} (hits ${r.hits}, hit rate ${hitRate(r).toFixed(2)}%)\n` +
    `Total writes to disk: ${r.writes}`
  );
}

/** hitRate is the percentage of references that hit. */
function hitRate(r: PolicyResult): number {
  return r.references === 0 ? 0 : (100 * r.hits) / r.references;
}

/** resultJson is one run's totals (and steps when printed) as JSON. */
function resultJson(r: PolicyResult, steps: string[] | null): string {
  const totals = JSON.stringify({ ...r, hitRate: Number(hitRate(r).toFixed(4)) });
  return steps === null ? totals : `${totals.slice(0, -1)},"steps":[${steps.join(',')}]}`;
}

/** summaryTable lists every run's totals, one row per (frames, policy). */
function summaryTable(results: readonly PolicyResult[]): string {
  const rows = [['frames', 'policy', 'faults', 'hits', 'hit rate', 'writes', 'evictions']];
  for (const r of results)
    rows.push([r.frames, r.policy, r.faults, r.hits, `${hitRate(r).toFixed(2)}%`, r.writes, r.evictions].map(String));
  const w = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return (
    rows
      .map((row) =>
        row
          .map((cell, c) => cell.padEnd(w[c]))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
