// `pagelab trace convert IN OUT.bin`: lackey text (plain or gzip) to the
// compact binary form (OUT.bin, or OUT.bin.gz compressed).

import type { Command } from 'commander';
import { PagelabError } from '../../errors.js';
import { convertTrace, formatOf } from '../replay/source.js';

export function registerTrace(program: Command): void {
  const trace = program.command('trace').description('memory-trace utilities');
  trace
    .command('convert')
    .description('convert a lackey text trace to the binary form (10-byte records)')
    .argument('<in>', 'lackey text trace, plain or gzip')
    .argument('<out>', 'output file ending in .bin or .bin.gz')
    .option('--lenient', 'count and skip malformed lines instead of failing')
    .action(async (input: string, out: string, f: { lenient?: boolean }) => {
      if (formatOf(out) !== 'binary') throw new PagelabError(`${out}: the output name must end in .bin or .bin.gz`);
      const r = await convertTrace(input, out, { lenient: f.lenient ?? false });
      let msg = `${out}: ${r.records.toLocaleString('en-US')} records`;
      if (r.commentLines > 0) msg += `, ${r.commentLines} valgrind lines skipped`;
      if (r.badLines > 0) msg += `, ${r.badLines} malformed lines skipped (first: line ${r.firstBadLine})`;
      if (r.clampedSizes > 0) msg += `, ${r.clampedSizes} sizes above 255 stored as 255`;
      process.stdout.write(msg + '\n');
    });
}
