// ELF32 executables for i386 (System V gABI, Intel386 psABI): the file
// header, program headers, section headers and the symbol table, parsed
// strictly. Only what a multiboot loader needs: no relocations, no dynamic.

import { ByteReader } from './bytes.js';

export const PT_NULL = 0;
export const PT_LOAD = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOBITS = 8;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
const ELFCLASS32 = 1;
const ELFDATA2LSB = 1;
const EV_CURRENT = 1;
const ET_EXEC = 2;
const EM_386 = 3;
const EHDR_SIZE = 52;
const PHDR_SIZE = 32;
const SHDR_SIZE = 40;
const SYM_SIZE = 16;
const SHN_UNDEF = 0;

export interface ProgramHeader {
  readonly index: number;
  /** File offset of this program header (for error messages). */
  readonly headerOffset: number;
  readonly type: number;
  readonly offset: number;
  readonly vaddr: number;
  readonly paddr: number;
  readonly filesz: number;
  readonly memsz: number;
  readonly flags: number;
  readonly align: number;
}

export interface SectionHeader {
  readonly index: number;
  readonly headerOffset: number;
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly addr: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly entsize: number;
}

export interface ElfSymbol {
  readonly name: string;
  readonly value: number;
  readonly size: number;
  readonly info: number;
  readonly shndx: number;
}

export interface Elf32 {
  readonly bytes: Uint8Array;
  readonly entry: number;
  readonly programHeaders: readonly ProgramHeader[];
  readonly sections: readonly SectionHeader[];
  readonly symbols: readonly ElfSymbol[];
}

/** parseElf32 parses an i386 ELF32 executable; any malformed field is a ParseError naming its offset. */
export function parseElf32(bytes: Uint8Array, what = 'ELF image'): Elf32 {
  const r = new ByteReader(bytes, what);
  checkIdent(r);
  const entry = r.u32(24, 'e_entry');
  const phoff = r.u32(28, 'e_phoff');
  const shoff = r.u32(32, 'e_shoff');
  const phnum = r.u16(44, 'e_phnum');
  const shnum = r.u16(48, 'e_shnum');
  const shstrndx = r.u16(50, 'e_shstrndx');
  if (phnum > 0 && r.u16(42, 'e_phentsize') !== PHDR_SIZE) r.fail(42, `e_phentsize ${PHDR_SIZE}`);
  if (shnum > 0 && r.u16(46, 'e_shentsize') !== SHDR_SIZE) r.fail(46, `e_shentsize ${SHDR_SIZE}`);
  const programHeaders = readProgramHeaders(r, phoff, phnum);
  const sections = readSections(r, shoff, shnum, shstrndx);
  return { bytes, entry, programHeaders, sections, symbols: readSymbols(r, sections) };
}

/** checkIdent checks e_ident, e_type, e_machine, e_version and e_ehsize. */
function checkIdent(r: ByteReader): void {
  r.need(0, EHDR_SIZE, 'an ELF header');
  ELF_MAGIC.forEach((b, i) => {
    if (r.u8(i, 'EI_MAG') !== b) r.fail(i, 'the ELF magic 7F 45 4C 46');
  });
  if (r.u8(4, 'EI_CLASS') !== ELFCLASS32) r.fail(4, 'EI_CLASS 1 (ELF32)');
  if (r.u8(5, 'EI_DATA') !== ELFDATA2LSB) r.fail(5, 'EI_DATA 1 (little-endian)');
  if (r.u8(6, 'EI_VERSION') !== EV_CURRENT) r.fail(6, 'EI_VERSION 1');
  if (r.u16(16, 'e_type') !== ET_EXEC) r.fail(16, 'e_type 2 (ET_EXEC, an executable)');
  if (r.u16(18, 'e_machine') !== EM_386) r.fail(18, 'e_machine 3 (EM_386)');
  if (r.u32(20, 'e_version') !== EV_CURRENT) r.fail(20, 'e_version 1');
  if (r.u16(40, 'e_ehsize') !== EHDR_SIZE) r.fail(40, `e_ehsize ${EHDR_SIZE}`);
}

/** readProgramHeaders reads the table; a PT_LOAD's file bytes must lie in the file and fit its memsz. */
function readProgramHeaders(r: ByteReader, phoff: number, phnum: number): ProgramHeader[] {
  if (phnum > 0) tableInFile(r, 28, phoff, phnum * PHDR_SIZE, `e_phoff: ${phnum} program headers`);
  const out: ProgramHeader[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * PHDR_SIZE;
    const ph: ProgramHeader = {
      index: i,
      headerOffset: o,
      type: r.u32(o, 'p_type'),
      offset: r.u32(o + 4, 'p_offset'),
      vaddr: r.u32(o + 8, 'p_vaddr'),
      paddr: r.u32(o + 12, 'p_paddr'),
      filesz: r.u32(o + 16, 'p_filesz'),
      memsz: r.u32(o + 20, 'p_memsz'),
      flags: r.u32(o + 24, 'p_flags'),
      align: r.u32(o + 28, 'p_align'),
    };
    if (ph.type === PT_LOAD) checkLoad(r, ph);
    out.push(ph);
  }
  return out;
}

/** checkLoad validates one PT_LOAD segment's sizes and addresses. */
function checkLoad(r: ByteReader, ph: ProgramHeader): void {
  const o = ph.headerOffset;
  if (ph.filesz > ph.memsz)
    r.fail(o + 16, `p_filesz (${ph.filesz}) <= p_memsz (${ph.memsz}) in program header ${ph.index}`);
  if (ph.offset + ph.filesz > r.length) {
    r.fail(
      o + 4,
      `program header ${ph.index}'s ${ph.filesz} file bytes at p_offset 0x${ph.offset.toString(16)} inside the ${r.length}-byte file`,
    );
  }
  if (ph.paddr + ph.memsz > 0x1_0000_0000 || ph.vaddr + ph.memsz > 0x1_0000_0000) {
    r.fail(o + 8, `program header ${ph.index}: p_vaddr/p_paddr + p_memsz within 4 GiB`);
  }
}

/**
 * tableInFile checks that a header table [offset, offset + size) lies in the file;
 * if not, the error names the header field that gave the offset (at fieldOffset).
 */
function tableInFile(r: ByteReader, fieldOffset: number, offset: number, size: number, what: string): void {
  if (offset + size <= r.bytes.length) return;
  r.fail(fieldOffset, `${what} (${size} bytes at 0x${offset.toString(16)}) inside the ${r.bytes.length}-byte file`);
}

/** readSections reads the section header table and the section names. */
function readSections(r: ByteReader, shoff: number, shnum: number, shstrndx: number): SectionHeader[] {
  if (shnum === 0) return [];
  tableInFile(r, 32, shoff, shnum * SHDR_SIZE, `e_shoff: ${shnum} section headers`);
  if (shstrndx !== SHN_UNDEF && shstrndx >= shnum) r.fail(50, `e_shstrndx below e_shnum (${shnum})`);
  const raw = [];
  for (let i = 0; i < shnum; i++) raw.push(readSectionHeader(r, shoff + i * SHDR_SIZE, i));
  const names = shstrndx === SHN_UNDEF ? null : raw[shstrndx];
  if (names !== null && names.type !== SHT_STRTAB)
    r.fail(names.headerOffset + 4, 'e_shstrndx to name a SHT_STRTAB section');
  return raw.map((s) => ({
    ...s,
    name: names === null ? '' : stringAt(r, names, s.nameOffset, `section ${s.index}'s name`),
  }));
}

/** readSectionHeader reads one section header; a section with file contents must lie in the file. */
function readSectionHeader(r: ByteReader, o: number, index: number): SectionHeader & { nameOffset: number } {
  const s = {
    index,
    headerOffset: o,
    name: '',
    nameOffset: r.u32(o, 'sh_name'),
    type: r.u32(o + 4, 'sh_type'),
    flags: r.u32(o + 8, 'sh_flags'),
    addr: r.u32(o + 12, 'sh_addr'),
    offset: r.u32(o + 16, 'sh_offset'),
    size: r.u32(o + 20, 'sh_size'),
    link: r.u32(o + 24, 'sh_link'),
    entsize: r.u32(o + 36, 'sh_entsize'),
  };
  if (s.type !== SHT_NOBITS && s.type !== 0 && s.offset + s.size > r.length) {
    r.fail(
      o + 16,
      `section ${index}'s ${s.size} bytes at sh_offset 0x${s.offset.toString(16)} inside the ${r.length}-byte file`,
    );
  }
  return s;
}

/** stringAt reads a NUL-terminated name at `offset` inside a string-table section. */
function stringAt(r: ByteReader, table: SectionHeader, offset: number, field: string): string {
  if (offset >= table.size)
    r.fail(table.offset, `${field}: an offset below the string table's size ${table.size}, got ${offset}`);
  return r.cstring(table.offset + offset, table.offset + table.size, field);
}

/** readSymbols reads every SHT_SYMTAB section with its linked string table. */
function readSymbols(r: ByteReader, sections: readonly SectionHeader[]): ElfSymbol[] {
  const out: ElfSymbol[] = [];
  for (const s of sections) {
    if (s.type !== SHT_SYMTAB) continue;
    if (s.entsize !== SYM_SIZE || s.size % SYM_SIZE !== 0)
      r.fail(s.headerOffset + 36, `a symbol table of ${SYM_SIZE}-byte entries`);
    const strtab = sections.at(s.link);
    if (strtab === undefined || strtab.type !== SHT_STRTAB)
      r.fail(s.headerOffset + 24, 'sh_link to name a SHT_STRTAB section');
    for (let o = s.offset; o < s.offset + s.size; o += SYM_SIZE) {
      out.push({
        name: stringAt(r, strtab, r.u32(o, 'st_name'), 'a symbol name'),
        value: r.u32(o + 4, 'st_value'),
        size: r.u32(o + 8, 'st_size'),
        info: r.u8(o + 12, 'st_info'),
        shndx: r.u16(o + 14, 'st_shndx'),
      });
    }
  }
  return out;
}

/** symbolMap maps each named symbol to its value (the first definition wins). */
export function symbolMap(elf: Elf32): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of elf.symbols) if (s.name !== '' && !m.has(s.name)) m.set(s.name, s.value);
  return m;
}
