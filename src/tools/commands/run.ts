// `pagelab run LOG...`: run a traced program's processes on the kernel (README.md, "Processes").
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { PagelabError } from '../../errors.js';
import { checkOutputPath } from '../outfile.js';
import { addBootOptions, type BootCliOptions } from './boot.js';
import { DEFAULT_QUANTUM, runLogs } from '../run/run.js';
import { summaryLines } from '../run/report.js';
import { swapLine } from '../run/swap.js';
import { parseSize } from '../args.js';

interface RunCliOptions extends BootCliOptions {
  quantum: string;
  json?: boolean;
  events?: string;
  verify?: boolean;
  pge: boolean;
  elf?: string;
  userFrames?: string;
  swap?: string;
  swapSize?: string;
  policy?: string;
}

export function registerRun(program: Command): void {
  const cmd = program
    .command('run')
    .description("run a traced i386 program's processes (valgrind lackey logs with system calls) on the kernel")
    .argument('<log...>', 'the logs of one program, one per process (prog.PID.lk, plain or gzip)');
  addBootOptions(cmd)
    .option('--elf <file>', "the program's ELF file (default: the first log's Command: line)")
    .option('--quantum <n>', 'accesses per time slice', String(DEFAULT_QUANTUM))
    .option('--verify', 'stores write values, loads check them (prints loads checked and mismatches)')
    .option('--no-pge', 'no global kernel pages (CR4.PGE left clear): kernel pages leave the TLB at every switch')
    .option('--events <file>', 'write what happened as JSON lines (faults, switches, forks, exits, kills)')
    .option('--json', 'print one JSON document')
    .option('--user-frames <n>', 'a budget of frames for user pages, all processes together (evicts when full)')
    .option('--swap <file>', 'the swap file (default: a temporary file removed at exit)')
    .option('--swap-size <size>', 'the swap file size (default: twice the budget), e.g. 1M')
    .option('--policy <name>', 'the replacement policy in the kernel: fifo or clock (default clock)')
    .action((logs: string[], o: RunCliOptions) => runCommand(logs, o));
}

/** runCommand runs the logs and prints the summary (or JSON); a progress bar only on a terminal, not with --quiet. */
async function runCommand(logs: string[], o: RunCliOptions): Promise<void> {
  if (!/^\d+$/.test(o.quantum)) throw new PagelabError(`--quantum ${o.quantum}: expected a whole number >= 1`);
  if (o.events !== undefined) checkOutputPath(o.events, '--events', [...logs, ...(o.elf === undefined ? [] : [o.elf])]);
  const tty = process.stderr.isTTY === true && o.json !== true && o.quiet !== true;
  let bar: cliProgress.SingleBar | null = null;
  if (o.userFrames !== undefined && !/^\d+$/.test(o.userFrames))
    throw new PagelabError(`--user-frames ${o.userFrames}: expected a whole number >= 4`);
  const { json } = await runLogs(logs, {
    ...o,
    quantum: Number(o.quantum),
    userFrames: o.userFrames === undefined ? undefined : Number(o.userFrames),
    swapSize: o.swapSize === undefined ? undefined : parseSize(o.swapSize, '--swap-size'),
    onProgress: !tty
      ? undefined
      : (done, total) => {
          bar ??= newBar(total);
          bar.update(done);
        },
  });
  (bar as cliProgress.SingleBar | null)?.stop();
  if (o.json === true) process.stdout.write(JSON.stringify(json, null, 2) + '\n');
  else {
    const paging = swapLine(
      { userFrames: null, policy: null, swap: null, ...json },
      json.userFrames === undefined ? null : (json.totals as Parameters<typeof swapLine>[1]),
    );
    const lines = summaryLines(json, o.quiet === true);
    process.stdout.write([...lines, ...(paging === null ? [] : [paging])].join('\n') + '\n');
  }
}

function newBar(total: number): cliProgress.SingleBar {
  const bar = new cliProgress.SingleBar(
    { format: 'run [{bar}] {percentage}% | {value}/{total} accesses', clearOnComplete: true, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return bar;
}
