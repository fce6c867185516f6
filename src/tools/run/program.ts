// What the driver knows of the program from its ELF file, independently of the kernel: the bytes a page of a
// PT_LOAD segment starts with (for --verify), and the access the faulting instruction makes (for a log that
// ends in SIGSEGV: valgrind logs neither the faulting instruction nor its access).

import { parseElf32, PT_LOAD, type Elf32 } from '../../boot/elf.js';
import { ACCESS_READ, ACCESS_WRITE, type AccessKind } from '../../hw/fault.js';
import { PAGE_SIZE } from '../../hw/addr.js';

/** One PT_LOAD segment as a mapping of file bytes: [pageStart, fileEnd) come from the file, the rest is zero. */
interface FileSpan {
  readonly pageStart: number;
  readonly fileEnd: number;
  readonly end: number;
  /** The file offset of pageStart. */
  readonly offset: number;
}

export class Program {
  readonly elf: Elf32;
  private readonly spans: FileSpan[];

  constructor(
    readonly bytes: Uint8Array,
    readonly path: string,
  ) {
    this.elf = parseElf32(bytes, path);
    this.spans = this.elf.programHeaders
      .filter((h) => h.type === PT_LOAD && h.memsz > 0)
      .map((h) => {
        const skew = h.vaddr % PAGE_SIZE;
        return {
          pageStart: h.vaddr - skew,
          fileEnd: h.vaddr + h.filesz,
          end: h.vaddr + h.memsz,
          offset: h.offset - skew,
        };
      });
  }

  /** initialByte is what a fresh page of the image holds at `linear` (file byte or zero), or -1 outside it. */
  initialByte(linear: number): number {
    for (const s of this.spans) {
      if (linear < s.pageStart || linear >= s.end) continue;
      if (linear >= s.fileEnd) return 0;
      const off = s.offset + (linear - s.pageStart);
      return off < this.bytes.length ? this.bytes[off] : 0;
    }
    return -1;
  }

  /**
   * faultingAccess decodes the instruction at pc (from the file) far enough to say whether it reads or writes
   * memory and how wide: MOV forms (88/89/8A/8B/A0-A3/C6/C7, with a 66 prefix for 16 bits); anything else is
   * taken as a 4-byte read, or a write when valgrind said the region was mapped ("Bad permissions").
   */
  faultingAccess(pc: number, mapped: boolean): { kind: AccessKind; size: 1 | 2 | 4 } {
    let op = this.codeByte(pc);
    let wide: 2 | 4 = 4;
    if (op === 0x66) {
      wide = 2;
      op = this.codeByte(pc + 1);
    }
    switch (op) {
      case 0x88:
      case 0xa2:
      case 0xc6:
        return { kind: ACCESS_WRITE, size: 1 };
      case 0x89:
      case 0xa3:
      case 0xc7:
        return { kind: ACCESS_WRITE, size: wide };
      case 0x8a:
      case 0xa0:
        return { kind: ACCESS_READ, size: 1 };
      case 0x8b:
      case 0xa1:
        return { kind: ACCESS_READ, size: wide };
      default:
        return { kind: mapped ? ACCESS_WRITE : ACCESS_READ, size: 4 };
    }
  }

  /** codeByte is the file byte at linear address pc of a segment's file part, or -1. */
  private codeByte(pc: number): number {
    for (const s of this.spans) {
      if (pc >= s.pageStart && pc < s.fileEnd) return this.bytes[s.offset + (pc - s.pageStart)] ?? -1;
    }
    return -1;
  }
}
