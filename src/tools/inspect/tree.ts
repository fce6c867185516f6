// The page directory as a readable tree: each present PDE with its linear
// range, value and flags, then the 4 MiB page or the page table's present
// entries, grouped into runs (same flags, consecutive frames) with the
// physical ranges they reach and their effective permission (urw, as info mem).

import { hex } from '../../hw/addr.js';
import { CR0_PG, CR0_WP, CR4_PGE, CR4_PSE, FRAME_MASK, PDE_PS, PTE_RW, PTE_US, flagNames } from '../../hw/paging.js';
import { LARGE_PAGE, PAGE, largePhys, pteRuns, type DirectoryView, type PdeView } from './scan.js';

export interface TreeStyle {
  readonly heading: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly warn: (s: string) => string;
}

export const PLAIN: TreeStyle = { heading: (s) => s, dim: (s) => s, warn: (s) => s };

/** physText prints a physical address, with 9 digits above 4 GiB. */
function physText(p: number): string {
  return hex(p, p > 0xffffffff ? 9 : 8);
}

/** range prints an inclusive address range start-end for `size` bytes. */
function range(start: number, size: number, ph = false): string {
  const f = ph ? physText : (n: number) => hex(n);
  return `${f(start)}-${f(start + size - 1)}`;
}

/** perms is the effective permission in info mem's letters. */
function perms(entry: number): string {
  return `${entry & PTE_US ? 'u' : '-'}r${entry & PTE_RW ? 'w' : '-'}`;
}

/** sizeText names a byte count in KiB or MiB. */
export function sizeText(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/** formatTree renders the whole directory. */
export function formatTree(view: DirectoryView, style: TreeStyle = PLAIN): string[] {
  const r = view.regs;
  const cr0 = [r.cr0 & CR0_PG ? 'PG' : '', r.cr0 & CR0_WP ? 'WP' : ''].filter((s) => s !== '').join(' ');
  const cr4 = [r.cr4 & CR4_PSE ? 'PSE' : '', r.cr4 & CR4_PGE ? 'PGE' : ''].filter((s) => s !== '').join(' ');
  const lines = [
    style.heading(
      `page directory at ${hex(view.dirAddr)} (CR3 ${hex(r.cr3)}, CR0 ${hex(r.cr0)} [${cr0}], CR4 ${hex(r.cr4)} [${cr4}])`,
    ),
  ];
  if (!view.dirInImage) {
    lines.push(
      style.warn(`  CR3 points past the end of the ${sizeText(view.imageSize)} image: no page directory to show`),
    );
    return lines;
  }
  if (view.pdes.length === 0) lines.push(style.dim('  no present entries'));
  for (const pde of view.pdes) lines.push(...pdeLines(view, pde, style));
  return lines;
}

/** pdeLines renders one PDE and, for a table, its runs of PTEs. */
function pdeLines(view: DirectoryView, pde: PdeView, style: TreeStyle): string[] {
  const head = `PDE ${String(pde.index).padEnd(4)} ${range(pde.linear, LARGE_PAGE)}  ${hex(pde.value)} [${flagNames(pde.value, true).join(' ')}]`;
  if (pde.large) {
    const p = largePhys(pde.value);
    return [style.heading(`${head} -> 4 MiB page ${range(p, LARGE_PAGE, true)} ${perms(pde.value)}`)];
  }
  const ignored = (pde.value & PDE_PS) !== 0 ? style.warn(' (PS ignored: CR4.PSE=0)') : '';
  const lines = [style.heading(`${head} -> page table ${hex(pde.table!)}`) + ignored];
  if (pde.ptes === null) {
    lines.push(style.warn(`  page table past the end of the ${sizeText(view.imageSize)} image: entries unknown`));
    return lines;
  }
  const runs = pteRuns(pde.ptes);
  if (runs.length === 0) lines.push(style.dim('  no present entries'));
  for (const run of runs) {
    const idx = run.count === 1 ? `${run.first}` : `${run.first}-${run.first + run.count - 1}`;
    const lin = pde.linear + run.first * PAGE;
    const phys = (run.value & FRAME_MASK) >>> 0;
    const count = run.count === 1 ? '' : style.dim(` (${run.count} pages)`);
    lines.push(
      `  PTE ${idx.padEnd(9)} ${range(lin, run.count * PAGE)} -> ${range(phys, run.count * PAGE, true)}` +
        `  ${hex(run.value & 0xfff, 3)} [${flagNames(run.value, false).join(' ')}] ${perms(run.value & pde.value)}${count}`,
    );
  }
  return lines;
}
