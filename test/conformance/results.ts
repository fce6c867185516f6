// Parsing what the test kernel wrote to the debugcon port: 'CPUI' and
// CPUID.01H:EDX (which must report PSE-36, see case.ts QEMU_CPU), then per case 'CASE',
// its index, three words per access (status, then value and 0, or CR2 and the
// error code), the final value of each reported entry; 'DONE' at the end.
// A fatal exception in the kernel is 'FTAL', vector, error code, EIP, CR2, case.

import { PagelabError, ParseError } from '../../src/errors.js';
import { hex } from '../../src/hw/addr.js';
import {
  CPUID_PSE36,
  QEMU_CPU,
  accessCount,
  reportAddrs,
  type AccessOutcome,
  type Case,
  type CaseOutcome,
} from './case.js';

export const OUT_CASE = 0x45534143; // 'CASE'
export const OUT_DONE = 0x454e4f44; // 'DONE'
export const OUT_FATAL = 0x4c415446; // 'FTAL'
export const OUT_CPUID = 0x49555043; // 'CPUI'

/** The test kernel stopped on an exception it did not expect. */
export class KernelFatal extends PagelabError {}

/** Reader hands out the words of the output, naming the offset of a short read. */
class Reader {
  private pos = 0;
  constructor(private readonly view: DataView) {}
  get offset(): number {
    return this.pos;
  }
  /** peek returns the next word without consuming it. */
  peek(expected: string): number {
    if (this.pos + 4 > this.view.byteLength) throw new ParseError('QEMU output', this.pos, expected);
    return this.view.getUint32(this.pos, true);
  }
  /** word consumes the next word. */
  word(expected: string): number {
    const v = this.peek(expected);
    this.pos += 4;
    return v;
  }
}

/** fatalFrom reads a 'FTAL' record (the marker already consumed) into an error. */
function fatalFrom(r: Reader): KernelFatal {
  const vector = r.word('fatal vector');
  if (vector === 0xffffffff)
    return new KernelFatal('test kernel rejected its boot or batch (bad multiboot info or module)');
  const [code, eip, cr2, index] = [r.word('error code'), r.word('EIP'), r.word('CR2'), r.word('case index')];
  return new KernelFatal(
    `test kernel took exception ${vector} (error code ${hex(code, 1)}, EIP ${hex(eip)}, CR2 ${hex(cr2)}) in case ${index}`,
  );
}

/** readAccess reads one access record. */
function readAccess(r: Reader): AccessOutcome {
  const at = r.offset;
  const status = r.word('access status');
  const a = r.word('access value or CR2');
  const b = r.word('access error code');
  if (status === 0) return { fault: false, value: a };
  if (status === 1) return { fault: true, cr2: a, code: b };
  throw new ParseError('QEMU output', at, 'access status 0 or 1');
}

/** readCase reads one case's records, checking its header. */
function readCase(r: Reader, c: Case, index: number): CaseOutcome {
  const at = r.offset;
  const marker = r.word(`'CASE' for case ${index}`);
  if (marker === OUT_FATAL) throw fatalFrom(r);
  if (marker !== OUT_CASE) throw new ParseError('QEMU output', at, `'CASE' marker for case ${index}`);
  const got = r.word('case index');
  if (got !== index) throw new ParseError('QEMU output', at + 4, `case index ${index}`);
  const accesses: AccessOutcome[] = [];
  for (let i = 0, n = accessCount(c); i < n; i++) {
    if (r.peek('access status') === OUT_FATAL) {
      r.word('fatal marker');
      throw fatalFrom(r);
    }
    accesses.push(readAccess(r));
  }
  const entries = reportAddrs(c).map(() => r.word('entry value'));
  return { accesses, entries };
}

/**
 * readCpuid reads the 'CPUI' record and checks the CPU reports PSE-36: the PSE-36
 * cases compare bits 16:13 of 4 MiB PDEs as address bits, defined only then (SDM 4.3).
 */
function readCpuid(r: Reader): void {
  const at = r.offset;
  const marker = r.word("'CPUI'");
  if (marker === OUT_FATAL) throw fatalFrom(r);
  if (marker !== OUT_CPUID) throw new ParseError('QEMU output', at, "'CPUI' marker");
  const edx = r.word('CPUID.01H:EDX');
  if ((edx & CPUID_PSE36) === 0)
    throw new ParseError(
      'QEMU output',
      at + 4,
      `CPUID.01H:EDX with PSE-36 (bit 17) set: run QEMU with -cpu ${QEMU_CPU}`,
    );
}

/** parseResults turns the kernel's output for a batch into one outcome per case. */
export function parseResults(bytes: Uint8Array, cases: readonly Case[]): CaseOutcome[] {
  const r = new Reader(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  readCpuid(r);
  const out = cases.map((c, i) => readCase(r, c, i));
  const at = r.offset;
  const done = r.word("'DONE'");
  if (done === OUT_FATAL) throw fatalFrom(r);
  if (done !== OUT_DONE) throw new ParseError('QEMU output', at, "'DONE' marker");
  if (r.offset !== bytes.byteLength) throw new ParseError('QEMU output', r.offset, 'end of output after DONE');
  return out;
}
