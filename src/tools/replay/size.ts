// parseRamSize reads `--ram`: bytes, optionally with a K, M or G suffix
// (binary units), e.g. 256M, 1G, 65536K, 0x10000000. (The replay's own small
// parser until a shared one exists in src/tools.)

import { PagelabError } from '../../errors.js';

const UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

export function parseRamSize(spec: string): number {
  const m = /^(0x[0-9a-f]+|\d+)([kmg]?)(?:i?b)?$/i.exec(spec.trim());
  if (m === null) throw new PagelabError(`--ram ${spec}: expected a size such as 256M, 1G or 0x10000000`);
  return Number(m[1]) * UNITS[m[2].toLowerCase()];
}

/** formatBytes writes a byte count in the largest binary unit that divides it. */
export function formatBytes(n: number): string {
  for (const [unit, f] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (n >= f && n % f === 0) return `${n / f} ${unit}`;
  }
  return `${n} B`;
}
