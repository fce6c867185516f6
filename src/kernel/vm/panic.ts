// The kernel's page-fault handler (IDT vector 14). A fault some resolver can
// fix (demand paging, later) is retried; any other is a kernel panic naming
// CR2, the error code in words and the access, with the machine left as it
// was for inspection.

import { hex } from '../../hw/addr.js';
import { ACCESS_NAMES, type PageFault } from '../../hw/fault.js';
import type { Machine } from '../../hw/machine.js';
import { describeErrorCode } from '../../hw/paging.js';
import { PagelabError } from '../../errors.js';

/** The kernel stopped: a page fault no resolver could handle (the only panic there is yet). */
export class KernelPanic extends PagelabError {
  readonly kind = 'unhandled-page-fault' as const;

  constructor(
    readonly fault: PageFault,
    readonly cr2: number,
  ) {
    super(
      `kernel panic: unhandled page fault at ${hex(cr2)} (CR2); error code ${hex(fault.errorCode, 1)}: ` +
        `${describeErrorCode(fault.errorCode)}; caused by a ${fault.size}-byte ${ACCESS_NAMES[fault.kind]} at CPL ${fault.cpl}`,
    );
  }

  /** The report as lines, for the boot log. */
  lines(): string[] {
    const f = this.fault;
    return [
      'KERNEL PANIC: unhandled page fault (vector 14)',
      `  CR2        ${hex(this.cr2)}`,
      `  error code ${hex(f.errorCode, 1)}: ${describeErrorCode(f.errorCode)}`,
      `  access     ${f.size}-byte ${ACCESS_NAMES[f.kind]} at CPL ${f.cpl}`,
    ];
  }
}

/** Tries to resolve a fault; true when the access may be retried. */
export type FaultResolver = (fault: PageFault, machine: Machine) => boolean;

/** installPageFaultHandler makes vector 14 try the resolvers in order, then panic. */
export function installPageFaultHandler(machine: Machine, resolvers: FaultResolver[] = []): void {
  machine.pageFaultHandler = (fault, m) => {
    for (const r of resolvers) if (r(fault, m)) return true;
    throw new KernelPanic(fault, m.mmu.cr2);
  };
}
