// --verify's model: stores and copy-outs remembered byte by byte, the ELF file's bytes and zero for bytes never
// written, the initial stack learned, pages dropped on unmap, fork copies; and the faulting-instruction decoder.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PT_LOAD } from '../../../src/boot/elf.js';
import { ACCESS_READ, ACCESS_WRITE } from '../../../src/hw/fault.js';
import { Program } from '../../../src/tools/run/program.js';
import { Shadow } from '../../../src/tools/run/shadow.js';

const ELF = new URL('../../programs/compute', import.meta.url).pathname;
const program = new Program(new Uint8Array(readFileSync(ELF)), ELF);
const text = program.elf.programHeaders.find((h) => h.type === PT_LOAD && h.filesz > 0)!;
const data = program.elf.programHeaders.filter((h) => h.type === PT_LOAD).at(-1)!;
const STACK: [number, number] = [0xbeff0000, 0xbf000000];

describe('the --verify model', () => {
  it('expects what was stored, byte by byte, and counts each differing byte once per load', () => {
    const s = new Shadow(program, STACK);
    s.store(0x40000002, 4, 0x11223344);
    s.check(0x40000002, 4, 0x11223344, 1);
    s.check(0x40000003, 2, 0x2233, 2);
    expect([s.loads, s.mismatches]).toEqual([2, 0]);
    s.check(0x40000002, 4, 0x11ff3344, 3);
    expect(s.mismatches).toBe(1);
    expect(s.first).toEqual({ address: 0x40000004, expected: 0x22, got: 0xff, record: 3 });
  });

  it('expects the file bytes in a PT_LOAD segment, zero past its file part and elsewhere', () => {
    const s = new Shadow(program, STACK);
    const b = program.bytes;
    const word = b[text.offset + 16] | (b[text.offset + 17] << 8);
    s.check(text.vaddr + 16, 2, word, 1);
    expect(s.mismatches).toBe(0);
    s.check(text.vaddr + 16, 2, word ^ 1, 2);
    expect(s.mismatches).toBe(1);
    s.check(data.vaddr + data.filesz + 1, 1, 0, 3); // .bss
    s.check(0x40000000, 4, 0, 4);
    expect(s.mismatches).toBe(1);
    s.check(0x40000000, 1, 7, 5);
    expect(s.mismatches).toBe(2);
    expect(program.initialByte(0x40000000)).toBe(-1);
  });

  it('learns an initial-stack byte at its first load, then holds it to that', () => {
    const s = new Shadow(program, STACK);
    s.check(0xbeffff00, 4, 0xdeadbeef, 1);
    s.check(0xbeffff00, 4, 0xdeadbeef, 2);
    expect(s.mismatches).toBe(0);
    s.check(0xbeffff00, 1, 0, 3);
    expect(s.mismatches).toBe(1);
  });

  it('forgets whole pages dropped (they come back zeroed), keeps a partly dropped one; fork copies', () => {
    const s = new Shadow(program, STACK);
    s.store(0x40000ffe, 4, 0x01020304); // straddles 0x40000000 and 0x40001000
    const child = s.fork();
    s.drop(0x40000800, 0x40002000);
    s.check(0x40000ffe, 2, 0x0304, 1); // the first page is only partly dropped
    s.check(0x40001000, 2, 0, 2);
    expect(s.mismatches).toBe(0);
    child.check(0x40001000, 2, 0x0102, 1); // the child's copy still has them
    child.store(0x40001000, 1, 9);
    s.check(0x40001000, 1, 0, 3); // and its stores are its own
    expect([s.mismatches, child.mismatches]).toEqual([0, 0]);
  });

  it('copy-outs are expected like stores', () => {
    const s = new Shadow(program, STACK);
    s.storeBytes(0x40000010, new Uint8Array([1, 2, 3]));
    s.check(0x40000010, 2, 0x0201, 1);
    s.check(0x40000012, 1, 4, 2);
    expect(s.mismatches).toBe(1);
  });
});

describe('the faulting instruction', () => {
  it('decodes MOV forms to a read or a write and a width; anything else by what valgrind said', () => {
    const at = (bytes: number[]): ReturnType<Program['faultingAccess']> => {
      const copy = program.bytes.slice();
      copy.set(bytes, text.offset + 0x100);
      return new Program(copy, 'patched').faultingAccess(text.vaddr + 0x100, false);
    };
    expect(at([0xc6, 0x05])).toEqual({ kind: ACCESS_WRITE, size: 1 });
    expect(at([0xc7, 0x05])).toEqual({ kind: ACCESS_WRITE, size: 4 });
    expect(at([0x66, 0x89, 0x03])).toEqual({ kind: ACCESS_WRITE, size: 2 });
    expect(at([0xa1, 0, 0, 0, 0])).toEqual({ kind: ACCESS_READ, size: 4 });
    expect(at([0x8a, 0x03])).toEqual({ kind: ACCESS_READ, size: 1 });
    expect(at([0x90])).toEqual({ kind: ACCESS_READ, size: 4 });
    expect(program.faultingAccess(0x10, true)).toEqual({ kind: ACCESS_WRITE, size: 4 });
  });
});
