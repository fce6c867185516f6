// The initial stack of an i386 process (System V i386 psABI, 3.4.1; as
// Linux's create_elf_tables lays it out): from the top, the argument and
// environment strings, the platform string and 16 AT_RANDOM bytes, then
// (16-byte aligned at argc) argc, argv[], NULL, envp[], NULL, auxv pairs,
// AT_NULL. Built here as bytes; exec writes them through the MMU.

import type { UserImage } from './elf.js';

const AT_NULL = 0;
const AT_PHDR = 3;
const AT_PHENT = 4;
const AT_PHNUM = 5;
const AT_PAGESZ = 6;
const AT_ENTRY = 9;
const AT_UID = 11;
const AT_EUID = 12;
const AT_GID = 13;
const AT_EGID = 14;
const AT_PLATFORM = 15;
const AT_HWCAP = 16;
const AT_CLKTCK = 17;
const AT_SECURE = 23;
const AT_RANDOM = 25;
const AT_EXECFN = 31;

export interface InitialStack {
  /** ESP at entry: where argc is. */
  readonly sp: number;
  /** The bytes from sp up to the stack top. */
  readonly bytes: Uint8Array;
}

/** buildStack lays out argv, envp and auxv below `top` for an image. */
export function buildStack(
  img: UserImage,
  argv: readonly string[],
  envp: readonly string[],
  top: number,
): InitialStack {
  const enc = new TextEncoder();
  const strings: Uint8Array[] = [...argv, ...envp].map((s) => enc.encode(s + '\0'));
  const platform = enc.encode('i686\0');
  const random = Uint8Array.from({ length: 16 }, (_, i) => (i * 37 + 11) & 0xff); // fixed: runs are repeatable
  let cursor = top - 4; // a NULL word at the very top, as Linux leaves
  const place = (b: Uint8Array): number => (cursor -= b.length);
  const addrs = strings.map(place);
  const platformAt = place(platform);
  const randomAt = place(random);
  const aux = [
    [AT_PHDR, img.phdr],
    [AT_PHENT, 32],
    [AT_PHNUM, img.elf.programHeaders.length],
    [AT_PAGESZ, 4096],
    [AT_ENTRY, img.entry],
    [AT_UID, 0],
    [AT_EUID, 0],
    [AT_GID, 0],
    [AT_EGID, 0],
    [AT_HWCAP, 0],
    [AT_CLKTCK, 100],
    [AT_SECURE, 0],
    [AT_RANDOM, randomAt],
    [AT_PLATFORM, platformAt],
    [AT_EXECFN, argv.length > 0 ? addrs[0] : 0],
    [AT_NULL, 0],
  ];
  const words = [argv.length, ...addrs.slice(0, argv.length), 0, ...addrs.slice(argv.length), 0, ...aux.flat()];
  const sp = Math.floor((cursor - words.length * 4) / 16) * 16;
  const bytes = new Uint8Array(top - sp);
  const view = new DataView(bytes.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w >>> 0, true));
  strings.forEach((s, i) => bytes.set(s, addrs[i] - sp));
  bytes.set(platform, platformAt - sp);
  bytes.set(random, randomAt - sp);
  return { sp, bytes };
}
