// npm run conformance -- --seed S --cases N: N generated cases plus every
// named case, on QEMU and on the model; prints each mismatch as a shrunk
// reproducer and ends with one summary line. Exit 1 on mismatches, 2 on errors.

import { Command, InvalidArgumentError } from 'commander';
import { PagelabError } from '../../src/errors.js';
import type { AccessedOrder } from '../../src/hw/walk.js';
import type { Case } from './case.js';
import { formatMismatch } from './compare.js';
import { generateCase, generateCases } from './generate.js';
import { namedCases } from './named.js';
import { INSTALL_HINT, missingTools } from './qemu.js';
import { shrink } from './shrink.js';
import { DEFAULT_BATCH, runSuite, type SuiteResult } from './suite.js';

interface Options {
  seed?: number;
  cases: number;
  named: boolean;
  case?: number;
  name?: string;
  batch: number;
  jobs?: number;
  shrink: boolean;
  tlb?: string;
  accessedOrder: AccessedOrder;
}

/** accessedOrder parses --accessed-order. */
function accessedOrder(text: string): AccessedOrder {
  if (text !== 'qemu' && text !== 'after-checks') throw new InvalidArgumentError("expected 'qemu' or 'after-checks'");
  return text;
}

/** wholeNumber parses a non-negative integer option (seeds up to 2^32-1). */
function wholeNumber(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n > 0xffffffff)
    throw new InvalidArgumentError('expected a whole number below 2^32');
  return n;
}

/** selectCases is the run's case list. */
function selectCases(o: Options, seed: number): Case[] {
  if (o.case !== undefined) return [generateCase(seed, o.case)];
  const named = o.named ? namedCases() : [];
  const prefix = o.name;
  if (prefix !== undefined) {
    const picked = named.filter((c) => c.name.startsWith(prefix));
    if (picked.length === 0) throw new PagelabError(`no named case '${prefix}'`);
    return picked;
  }
  return [...named, ...generateCases(seed, o.cases)];
}

/** summaryLine is the contract line the issue names. */
export function summaryLine(r: SuiteResult, seed: number): string {
  return `conformance: cases=${r.cases} accesses=${r.accesses} faults=${r.faults} mismatches=${r.mismatches.length} seed=${seed}`;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command('conformance')
    .description('compare the paging model with QEMU on generated and named cases')
    .option('--seed <n>', 'generator seed (default: random, printed)', wholeNumber)
    .option('--cases <n>', 'generated cases', wholeNumber, 300)
    .option('--no-named', 'skip the named cases')
    .option('--case <i>', 'run only generated case i of the seed', wholeNumber)
    .option('--name <name>', 'run only the named cases whose name starts with this')
    .option('--batch <n>', 'cases per QEMU boot', wholeNumber, DEFAULT_BATCH)
    .option('--jobs <n>', 'QEMU processes at once (default: 2)', wholeNumber)
    .option('--tlb <spec>', "the model's TLB: none, dm:N, fa:N, sa:SxW (default sa:16x4)")
    .option(
      '--accessed-order <order>',
      "the model's PDE.A order: qemu or after-checks",
      accessedOrder,
      'qemu' as AccessedOrder,
    )
    .option('--no-shrink', 'print mismatches as found, without shrinking')
    .exitOverride();
  program.parse(argv, { from: 'user' });
  const o = program.opts<Options>();
  const missing = missingTools();
  if (missing.length > 0) throw new PagelabError(`${missing.join(', ')} not installed (${INSTALL_HINT})`);
  const seed = o.seed ?? Math.floor(Math.random() * 0xffffffff);
  const cases = selectCases(o, seed);
  const started = Date.now();
  const model = { accessedOrder: o.accessedOrder, ...(o.tlb !== undefined ? { tlb: o.tlb } : {}) };
  const r = await runSuite(cases, {
    batchSize: Math.max(1, o.batch),
    ...(o.jobs !== undefined ? { jobs: o.jobs } : {}),
    model,
    onBatch: (done, total) => {
      if (process.stderr.isTTY) process.stderr.write(`\r${done}/${total} cases`);
    },
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  for (const m of r.mismatches.slice(0, 10)) console.log(formatMismatch(o.shrink ? await shrink(m, model) : m), '\n');
  if (r.mismatches.length > 10) console.log(`(${r.mismatches.length - 10} more mismatches not shown)`);
  const replay = [
    ...argv.filter((_, i) => argv[i] !== '--seed' && argv[i - 1] !== '--seed'),
    '--seed',
    String(seed),
  ].join(' ');
  console.log(`time: ${((Date.now() - started) / 1000).toFixed(1)} s; replay: npm run conformance -- ${replay}`);
  console.log(summaryLine(r, seed));
  return r.mismatches.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const err = e as { code?: string; exitCode?: number };
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) {
      process.exitCode = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
      return;
    }
    if (e instanceof PagelabError) {
      console.error(`conformance: ${e.message}`);
      process.exitCode = 2;
      return;
    }
    throw e;
  },
);
