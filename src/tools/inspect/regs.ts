// The control registers an inspection needs (CR0, CR3, CR4, and EIP when
// known): from QEMU's `info registers` text, or from --cr0/--cr3/--cr4 options
// given as numbers or as flag names ("pse,pge", "wp").

import { PagelabError, ParseError } from '../../errors.js';
import { hex } from '../../hw/addr.js';
import { CR0_PE, CR0_PG, CR0_WP, CR4_PAE, CR4_PGE, CR4_PSE } from '../../hw/paging.js';

export interface Registers {
  readonly cr0: number;
  readonly cr3: number;
  readonly cr4: number;
  /** The instruction pointer when the dump was taken, if known. */
  readonly eip?: number;
}

const CR0_NAMES: Readonly<Record<string, number>> = { pe: CR0_PE, wp: CR0_WP, pg: CR0_PG };
const CR4_NAMES: Readonly<Record<string, number>> = { pse: CR4_PSE, pge: CR4_PGE, pae: CR4_PAE };
const REG = '([0-9a-fA-F]{8}|[0-9a-fA-F]{16})';
const CR_LINE = new RegExp(`CR0=${REG} CR2=${REG} CR3=${REG} CR4=${REG}`);
const EIP_LINE = /(?:^|\s)[ER]IP=([0-9a-fA-F]{8,16})\b/;

/** parseQemuRegisters reads CR0, CR3, CR4 and EIP out of `info registers` output. */
export function parseQemuRegisters(text: string, what = 'info registers'): Registers {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => CR_LINE.test(l));
  if (at < 0) {
    const count = Math.max(1, lines.length - (lines[lines.length - 1] === '' ? 1 : 0)); // a final \n ends a line
    const expected = `a line "CR0=... CR2=... CR3=... CR4=..." by its last line (none of its ${count} line(s) has one)`;
    throw new ParseError(what, count, expected, 'line');
  }
  const m = CR_LINE.exec(lines[at])!;
  const [cr0, cr3, cr4] = [m[1], m[3], m[4]].map((h, i) => reg32(h, what, at + 1, ['CR0', 'CR3', 'CR4'][i]));
  const eipLine = lines.findIndex((l) => EIP_LINE.test(l));
  const eip = eipLine < 0 ? undefined : reg32(EIP_LINE.exec(lines[eipLine])![1], what, eipLine + 1, 'EIP');
  return checkMode({ cr0: cr0, cr3: cr3, cr4: cr4, ...(eip === undefined ? {} : { eip }) });
}

/**
 * parseRegistersFile reads QEMU's `info registers` text, or a JSON object
 * with numeric cr0, cr3, cr4 (and eip) keys such as `pagelab boot --json` prints.
 */
export function parseRegistersFile(text: string, what: string): Registers {
  if (!text.trimStart().startsWith('{')) return parseQemuRegisters(text, what);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ParseError(what, 1, `JSON (${(e as Error).message})`, 'line');
  }
  const o = doc as Record<string, unknown>;
  const num = (k: string): number | undefined => {
    const v = o[k];
    if (v === undefined && k === 'eip') return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new ParseError(what, 1, `a 32-bit number in "${k}"`, 'line');
    }
    return v;
  };
  const eip = num('eip');
  return checkMode({ cr0: num('cr0')!, cr3: num('cr3')!, cr4: num('cr4')!, ...(eip === undefined ? {} : { eip }) });
}

/** reg32 turns 8 or 16 hex digits into a 32-bit value; 64-bit values must fit. */
function reg32(digits: string, what: string, line: number, name: string): number {
  const v = parseInt(digits, 16);
  if (!Number.isSafeInteger(v) || v > 0xffffffff) throw new ParseError(what, line, `a 32-bit ${name}`, 'line');
  return v;
}

/** parseControl reads a control-register option: a number, or flag names joined by commas. */
export function parseControl(spec: string, register: 'cr0' | 'cr4'): number {
  const s = spec.trim().toLowerCase();
  if (/^(0x[0-9a-f]+|[0-9]+)$/.test(s)) {
    const v = Number(s);
    if (v > 0xffffffff) throw new PagelabError(`--${register} ${spec}: more than 32 bits`);
    return v;
  }
  const names = register === 'cr0' ? CR0_NAMES : CR4_NAMES;
  let v = register === 'cr0' ? CR0_PE | CR0_PG : 0;
  for (const name of s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '' && x !== 'none')) {
    const bit = Object.hasOwn(names, name) ? names[name] : undefined;
    if (bit === undefined) {
      throw new PagelabError(
        `--${register} ${spec}: unknown flag "${name}" (known: ${Object.keys(names).join(', ')}, or a number)`,
      );
    }
    v |= bit;
  }
  return v >>> 0;
}

/** parseAddress reads a 32-bit number given in hex (0x...) or decimal. */
export function parseAddress(spec: string, what: string): number {
  const s = spec.trim().replace(/_/g, '');
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(s))
    throw new PagelabError(`${what} ${spec}: expected a number (0x... or decimal)`);
  const v = Number(s);
  if (v > 0xffffffff) throw new PagelabError(`${what} ${spec}: more than 32 bits`);
  return v;
}

/** checkMode refuses what 32-bit paging inspection cannot show. */
export function checkMode(r: Registers): Registers {
  if ((r.cr4 & CR4_PAE) !== 0)
    throw new PagelabError(`CR4=${hex(r.cr4)} has PAE set: only 32-bit paging can be inspected`);
  return r;
}
