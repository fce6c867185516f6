// Option-value parsers shared by the commands.

import { PagelabError } from '../errors.js';

const UNITS: Readonly<Record<string, number>> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/**
 * parseSize reads a size such as 4096, 0x100000, 640K, 16M, 3584M or 4G (binary
 * units, case-insensitive, optional trailing B or iB) and returns bytes.
 */
export function parseSize(text: string, option = '--ram'): number {
  const m = /^\s*(0x[0-9a-f]+|\d+)\s*([kmg]?)(?:i?b)?\s*$/i.exec(text);
  if (m === null)
    throw new PagelabError(
      `${option}: expected a size such as 16M, 3584M, 4G or 0x1000000, got ${JSON.stringify(text)}`,
    );
  const bytes = Number(m[1]) * UNITS[m[2].toUpperCase()];
  if (!Number.isSafeInteger(bytes)) throw new PagelabError(`${option}: ${text} is too large`);
  return bytes;
}

/** formatSize writes a byte count in the largest binary unit that divides it (128 MiB, 640 KiB, 100 B). */
export function formatSize(n: number): string {
  for (const [unit, f] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (n >= f && n % f === 0) return `${n / f} ${unit}`;
  }
  return `${n} B`;
}
