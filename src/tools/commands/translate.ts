// `pagelab translate ADDR`: boot the machine (the boot options apply), bring
// up the memory manager, and print the walk of one linear address in an
// address space as the seeds draw it — or where and why it stops, with the
// error code the CPU access would get. --json gives src/tools/walkfmt.ts's
// contract: {linear, pde: {index, value}, pte: {index, value} | null,
// physical | null, fault: {errorCode} | null}.

import { Option, type Command } from 'commander';
import { hex } from '../../hw/addr.js';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, type AccessKind } from '../../hw/fault.js';
import { PagelabError } from '../../errors.js';
import { kernelMain } from '../../kernel/main.js';
import { SEL_UCODE, SEL_UDATA } from '../../kernel/gdt.js';
import {
  formatSegmentStep,
  parseLogical,
  parseNumber,
  segmentJson,
  segmentStep,
  type Logical,
  type SegmentStep,
} from '../logical.js';
import { formatWalk, walkJson } from '../walkfmt.js';
import { addBootOptions, bootFromCliOptions, type BootCliOptions } from './boot.js';

interface TranslateOptions extends BootCliOptions {
  space: string;
  json?: boolean;
  cpl: string;
  write?: boolean;
  fetch?: boolean;
}

/** parseLinear reads a 32-bit linear address: 0x-prefixed hex or decimal. */
export function parseLinear(text: string): number {
  const v = parseNumber(text.trim().replace(/_/g, ''), 0xffffffff);
  if (Number.isNaN(v)) {
    throw new PagelabError(`bad address '${text}': expected a 32-bit linear address, hex (0xC0100000) or decimal`);
  }
  return v;
}

export function registerTranslate(program: Command): void {
  const cmd = program
    .command('translate')
    .argument('<addr>', 'linear address, hex (0x...) or decimal; or a logical address SEL:OFFSET')
    .description('boot the machine and show how one linear address translates');
  addBootOptions(cmd)
    .addOption(new Option('--space <name>', 'address space to walk').choices(['kernel']).default('kernel'))
    .addOption(new Option('--cpl <n>', 'privilege level of the access').choices(['0', '3']).default('0'))
    .option('--write', 'ask about a write')
    .option('--fetch', 'ask about an instruction fetch')
    .option('--json', 'print the walk as JSON')
    .action((addr: string, o: TranslateOptions) => runTranslate(addr, o, (s) => process.stdout.write(s + '\n')));
}

/** runTranslate boots, walks `addr` without side effects (no A/D, no TLB) and prints it. */
export function runTranslate(addr: string, o: TranslateOptions, out: (line: string) => void): void {
  const logical = parseLogical(addr);
  let linear = logical === null ? parseLinear(addr) : 0;
  if (o.write === true && o.fetch === true)
    throw new PagelabError('--write and --fetch ask about different accesses: give one');
  const kind: AccessKind = o.write === true ? ACCESS_WRITE : o.fetch === true ? ACCESS_FETCH : ACCESS_READ;
  const { result, kernelOptions } = bootFromCliOptions({ ...o, quiet: true });
  const { kernel } = kernelMain(result.info, kernelOptions);
  const space = kernel.vm.kernel;
  kernel.vm.switchTo(space);
  const mmu = result.info.machine.mmu;
  const user = o.cpl === '3';
  if (logical !== null) {
    const step = segmentStep(result.info.machine, logical, kind, user ? 3 : 0, { code: SEL_UCODE, data: SEL_UDATA });
    if (step.linear === null) return printSegmentFault(logical, step, o.json === true, out);
    linear = step.linear;
    if (o.json !== true) for (const l of formatSegmentStep(logical, step)) out(l);
    else
      return out(
        JSON.stringify({ ...walkJson(mmu.probe(linear, kind, user), linear), logical: segmentJson(logical, step) }),
      );
  }
  const walk = mmu.probe(linear, kind, user);
  if (o.json === true) {
    out(JSON.stringify(walkJson(walk, linear)));
    return;
  }
  out(`address space '${o.space}': page directory ${hex(space.directory)} (CR3=${hex(mmu.cr3)})`);
  for (const l of formatWalk(walk, linear, { kind, user, pse: mmu.pse })) out(l);
}

/** printSegmentFault reports a logical address whose segment step faults: no linear address, so no walk. */
function printSegmentFault(l: Logical, step: SegmentStep, json: boolean, out: (s: string) => void): void {
  if (!json) for (const line of formatSegmentStep(l, step)) out(line);
  else
    out(
      JSON.stringify({
        linear: null,
        pde: null,
        pte: null,
        physical: null,
        fault: null,
        logical: segmentJson(l, step),
      }),
    );
}
