// `pagelab run`'s frame budget and swap: the options checked and turned into the kernel's PagerOptions, and the
// counters the JSON report carries (README.md, "Swap").
import { PagelabError } from '../../errors.js';
import { PAGE_SIZE } from '../../hw/addr.js';
import type { ProcessKernel } from '../../kernel/proc/api.js';
import { PAGER_POLICIES, type PagerOptions, type PagerPolicy } from '../../kernel/swap/pager.js';
import { POLICY_NAMES } from '../policy/policies.js';

/** The options as `pagelab run` takes them. */
export interface SwapCliOptions {
  readonly userFrames?: number;
  readonly swap?: string;
  /** Bytes (default: twice the budget). */
  readonly swapSize?: number;
  readonly policy?: string;
}

/** What --json carries at the top (null without --user-frames). */
export interface SwapReport {
  userFrames: number | null;
  policy: PagerPolicy | null;
  swap: {
    file: string | null;
    slots: number;
    peakUsed: number;
    bytesWritten: number;
    bytesRead: number;
    usedAtEnd: number;
  } | null;
}

/** The counters added to --json's totals with a budget. */
export interface SwapTotals {
  zeroFills: number;
  fileReads: number;
  swapIns: number;
  pageOuts: number;
  evictions: number;
  majorFaults: number;
  minorFaults: number;
  overBudget: number;
  clockInvlpgs: number;
}

/** pagerOptions checks the options; undefined without --user-frames (and then no other swap option is allowed). */
export function pagerOptions(o: SwapCliOptions): PagerOptions | undefined {
  if (o.userFrames === undefined) {
    for (const [name, v] of [
      ['--swap', o.swap],
      ['--swap-size', o.swapSize],
      ['--policy', o.policy],
    ] as const)
      if (v !== undefined) throw new PagelabError(`${name} needs --user-frames N (a frame budget)`);
    return undefined;
  }
  const n = o.userFrames;
  if (!Number.isInteger(n) || n < 4) throw new PagelabError(`--user-frames ${n}: expected a whole number >= 4`);
  const policy = o.policy ?? 'clock';
  if (!(PAGER_POLICIES as readonly string[]).includes(policy)) {
    const known = (POLICY_NAMES as readonly string[]).includes(policy);
    throw new PagelabError(
      `--policy ${policy}: ` +
        (known ? 'not in the kernel yet (pagelab policy simulates it); ' : 'unknown; ') +
        `the kernel has ${PAGER_POLICIES.join(', ')}`,
    );
  }
  const bytes = o.swapSize ?? 2 * n * PAGE_SIZE;
  if (!Number.isInteger(bytes) || bytes < PAGE_SIZE || bytes % PAGE_SIZE !== 0 || bytes / PAGE_SIZE > 1 << 20)
    throw new PagelabError(`--swap-size ${bytes}: expected a whole number of 4 KiB pages, 1 to 2^20 of them`);
  return { userFrames: n, policy: policy as PagerPolicy, file: o.swap ?? null, slots: bytes / PAGE_SIZE };
}

/** swapReport reads the pager's counters for --json: the top-level keys and the totals' additions. */
export function swapReport(
  kernel: ProcessKernel,
  opts: PagerOptions | undefined,
): { top: SwapReport; totals: SwapTotals | null } {
  const c = kernel.swapCounters();
  if (opts === undefined || c === null) return { top: { userFrames: null, policy: null, swap: null }, totals: null };
  const { swap, ...rest } = c;
  return {
    top: {
      userFrames: opts.userFrames,
      policy: opts.policy,
      swap: {
        file: opts.file,
        slots: swap.slots,
        peakUsed: swap.peakUsed,
        bytesWritten: swap.bytesWritten,
        bytesRead: swap.bytesRead,
        usedAtEnd: swap.used,
      },
    },
    totals: rest,
  };
}

/** swapLine is the summary's line about paging (null without a budget). */
export function swapLine(top: SwapReport, t: SwapTotals | null): string | null {
  if (top.swap === null || t === null) return null;
  return (
    `paging (${top.policy}, ${top.userFrames} user frames): ${t.zeroFills} zero fills, ${t.fileReads} file reads, ` +
    `${t.swapIns} swap-ins, ${t.pageOuts} page-outs, ${t.evictions} evictions, ${t.majorFaults} major / ` +
    `${t.minorFaults} minor faults; swap ${top.swap.slots} slots, peak ${top.swap.peakUsed}, ` +
    `${top.swap.bytesWritten} bytes written, ${top.swap.bytesRead} read, ${top.swap.usedAtEnd} in use at the end`
  );
}
