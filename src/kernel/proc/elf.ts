// The ELF checks exec makes beyond the boot loader's parse (../../boot/elf.ts):
// a static i386 executable (no PT_INTERP, no PT_DYNAMIC) whose PT_LOAD
// segments lie in the user half at or above USER_BASE, in order, on pages of
// their own, with p_vaddr and p_offset congruent modulo the page size, and an
// entry point inside an executable segment. Each failure is a ParseError
// naming the offset of the field at fault.

import { PAGE_SIZE, pageAlignDown, pageAlignUp } from '../../hw/addr.js';
import { ParseError } from '../../errors.js';
import { parseElf32, PF_R, PF_W, PF_X, PT_LOAD, type Elf32, type ProgramHeader } from '../../boot/elf.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from './api.js';
import { USER_BASE, USER_END } from './layout.js';

const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const WHAT = 'user program (ELF)';

/** One PT_LOAD segment as exec maps it. */
export interface LoadSegment {
  readonly vaddr: number;
  readonly memsz: number;
  readonly offset: number;
  readonly filesz: number;
  readonly prot: number;
}

export interface UserImage {
  readonly elf: Elf32;
  readonly entry: number;
  readonly segments: readonly LoadSegment[];
  /** The page after the last segment (the default program break). */
  readonly end: number;
  /** Where the program headers are in memory (AT_PHDR), 0 when no segment holds them. */
  readonly phdr: number;
}

/** parseUserImage parses and checks an executable for exec. */
export function parseUserImage(bytes: Uint8Array): UserImage {
  const elf = parseElf32(bytes, WHAT);
  for (const ph of elf.programHeaders) {
    if (ph.type === PT_INTERP || ph.type === PT_DYNAMIC)
      throw new ParseError(WHAT, ph.headerOffset, 'a statically linked executable (no PT_INTERP or PT_DYNAMIC)');
  }
  const loads = elf.programHeaders.filter((ph) => ph.type === PT_LOAD && ph.memsz > 0);
  if (loads.length === 0) throw new ParseError(WHAT, 28, 'at least one PT_LOAD segment with p_memsz > 0');
  let prevEnd = 0;
  for (const ph of loads) prevEnd = checkSegment(ph, prevEnd);
  const exec = loads.find((ph) => ph.flags & PF_X && elf.entry >= ph.vaddr && elf.entry < ph.vaddr + ph.memsz);
  if (exec === undefined) throw new ParseError(WHAT, 24, 'e_entry inside an executable (PF_X) PT_LOAD segment');
  const phoff = elf.programHeaders[0].headerOffset;
  const holder = loads.find((ph) => phoff >= ph.offset && phoff < ph.offset + ph.filesz);
  return {
    elf,
    entry: elf.entry,
    segments: loads.map((ph) => ({
      vaddr: ph.vaddr,
      memsz: ph.memsz,
      offset: ph.offset,
      filesz: ph.filesz,
      prot: protOf(ph.flags),
    })),
    end: prevEnd,
    phdr: holder === undefined ? 0 : holder.vaddr + (phoff - holder.offset),
  };
}

/** checkSegment checks one PT_LOAD against the user half and the previous one; returns its page-rounded end. */
function checkSegment(ph: ProgramHeader, prevEnd: number): number {
  const o = ph.headerOffset;
  if (ph.vaddr < USER_BASE)
    throw new ParseError(WHAT, o + 8, `p_vaddr at or above 0x08048000 (pages below it are never mapped)`);
  if (ph.vaddr + ph.memsz > USER_END) throw new ParseError(WHAT, o + 20, 'p_vaddr + p_memsz below 0xC0000000');
  if (ph.vaddr % PAGE_SIZE !== ph.offset % PAGE_SIZE)
    throw new ParseError(WHAT, o + 4, `p_offset congruent to p_vaddr modulo ${PAGE_SIZE}`);
  if (pageAlignDown(ph.vaddr) < prevEnd)
    throw new ParseError(WHAT, o + 8, 'PT_LOAD segments in address order, each on pages of its own');
  if ((ph.flags & (PF_R | PF_W | PF_X)) === 0) throw new ParseError(WHAT, o + 24, 'p_flags with R, W or X');
  return pageAlignUp(ph.vaddr + ph.memsz);
}

/** protOf turns p_flags into PROT_* bits. */
function protOf(flags: number): number {
  return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) | (flags & PF_X ? PROT_EXEC : 0);
}
