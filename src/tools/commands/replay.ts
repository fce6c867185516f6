// `pagelab replay TRACE`: replay a lackey or binary memory trace through the
// paging machine and its TLB (the bare model), or sweep TLB configurations.

import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { checkOutputPath, writeOutput } from '../outfile.js';
import { parseSize } from '../args.js';
import { PagelabError } from '../../errors.js';
import { parseTlb } from '../../hw/tlb.js';
import { DEFAULT_REPLAY_RAM } from '../replay/bare.js';
import { plotHtml, plotSvg } from '../replay/plot.js';
import { replay } from '../replay/replay.js';
import { describeTrace, summary, sweepTable } from '../replay/report.js';
import { readTrace } from '../replay/source.js';
import { parseSweep, sweep } from '../replay/sweep.js';
import type { Trace } from '../replay/trace.js';

interface ReplayFlags {
  model: string;
  tlb: string;
  ram?: string;
  json?: boolean;
  repeat: string;
  lenient?: boolean;
  sweep?: string;
  plot?: string;
  progress: boolean;
}

/** A progress bar is worth showing only for traces at least this long. */
const PROGRESS_RECORDS = 20_000_000;
const PROGRESS_BYTES = 64 * 1024 * 1024;

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('replay a valgrind lackey trace (text or .bin, plain or gzip) through the MMU and TLB')
    .argument('<trace>', 'lackey text trace, or binary trace ending in .bin / .bin.gz')
    .option('--model <name>', 'replay model (only bare)', 'bare')
    .option('--tlb <spec>', 'TLB: none, dm:N, fa:N or sa:SETSxWAYS', 'fa:64')
    .option('--ram <size>', 'physical memory, e.g. 256M, 1G (default 256M)')
    .option('--json', 'print one JSON object instead of the summary')
    .option('--repeat <k>', 'replay K times and report the best time', '1')
    .option('--lenient', 'count and skip malformed lines instead of failing')
    .option('--sweep <list>', 'replay once per TLB configuration, e.g. fa:8,16,32,64 or dm:16,32,fa:16,32')
    .option('--plot <file>', 'with --sweep: write the miss-rate plot (.svg or .html)')
    .option('--no-progress', 'never show a progress bar')
    .action(async (path: string, flags: ReplayFlags, cmd: Command) => {
      if (flags.sweep !== undefined && cmd.getOptionValueSource('tlb') === 'cli')
        throw new PagelabError('--tlb and --sweep exclude each other: --sweep lists the configurations');
      await runReplay(path, flags);
    });
}

/** runReplay is the command's action. */
async function runReplay(path: string, f: ReplayFlags): Promise<void> {
  if (f.model !== 'bare') throw new PagelabError(`--model ${f.model}: only the bare model exists`);
  const repeat = Number(f.repeat);
  if (!Number.isInteger(repeat) || repeat < 1)
    throw new PagelabError(`--repeat ${f.repeat}: expected a whole number >= 1`);
  const ram = f.ram === undefined ? DEFAULT_REPLAY_RAM : parseSize(f.ram, '--ram');
  if (f.plot !== undefined && f.sweep === undefined) throw new PagelabError('--plot needs --sweep');
  if (f.plot !== undefined && !/\.(svg|html?)$/i.test(f.plot))
    throw new PagelabError(`--plot ${f.plot}: the file must end in .svg or .html`);
  if (f.plot !== undefined) checkOutputPath(f.plot, '--plot', [path]);
  const configs = f.sweep === undefined ? [parseTlb(f.tlb)] : parseSweep(f.sweep);
  const tty = f.progress && process.stderr.isTTY === true;
  const trace = await load(path, f.lenient ?? false, tty);
  if (f.sweep === undefined) {
    const bar = tty && trace.length >= PROGRESS_RECORDS ? newBar('replay ', trace.length) : null;
    const r = replay(trace, {
      tlb: configs[0],
      ram,
      repeat,
      onProgress: bar === null ? undefined : (d) => bar.update(d),
    });
    bar?.stop();
    process.stdout.write(f.json ? JSON.stringify({ trace: path, ...r }) + '\n' : summary(path, trace, r));
    return;
  }
  const results = await sweep(trace, configs, ram, repeat);
  if (f.plot !== undefined) {
    const title = `TLB miss rate: ${path.split('/').pop()} (${trace.length.toLocaleString('en-US')} records)`;
    writeOutput(f.plot, /\.svg$/i.test(f.plot) ? plotSvg(results, title) : plotHtml(results, title), '--plot');
  }
  if (f.json) process.stdout.write(JSON.stringify({ trace: path, records: trace.length, sweep: results }) + '\n');
  else
    process.stdout.write(
      `${describeTrace(path, trace)}\n${sweepTable(results)}${f.plot ? `plot written to ${f.plot}\n` : ''}`,
    );
}

/** load decodes the trace, with a progress bar over the file's bytes for a big file on a TTY. */
async function load(path: string, lenient: boolean, tty: boolean): Promise<Trace> {
  let bar: cliProgress.SingleBar | null = null;
  const t = await readTrace(path, {
    lenient,
    onProgress: !tty
      ? undefined
      : (read, size) => {
          if (bar === null && size >= PROGRESS_BYTES) bar = newBar('reading', size);
          bar?.update(read);
        },
  });
  (bar as cliProgress.SingleBar | null)?.stop();
  return t;
}

function newBar(label: string, total: number): cliProgress.SingleBar {
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | ETA {eta}s`, clearOnComplete: true, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return bar;
}
