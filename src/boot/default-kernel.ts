// Where the committed default kernel image lives (kernel/pagelab-kernel.elf),
// from the sources (src/boot) or the build output (dist/src/boot).

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PagelabError } from '../errors.js';

export const DEFAULT_KERNEL_NAME = 'pagelab-kernel.elf';

/** defaultKernelPath finds kernel/pagelab-kernel.elf above this module. */
export function defaultKernelPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const p = join(here, up, 'kernel', DEFAULT_KERNEL_NAME);
    if (existsSync(p)) return p;
  }
  throw new PagelabError(
    `the default kernel ${DEFAULT_KERNEL_NAME} is missing: expected it in kernel/ at the project root`,
  );
}
