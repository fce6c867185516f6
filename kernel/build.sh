#!/bin/sh
# build.sh [OUTPUT [NASM-OPTIONS...]]: assemble entry.asm and link it with the
# seeds' linker script into an ELF32 i386 multiboot kernel linked at 0xC0100000
# and loaded at 0x00100000. Default output: pagelab-kernel.elf next to this
# script (committed, so booting needs no toolchain). `build.sh out.elf -DBOOT_PSE`
# builds the 4 MiB-page variant. Needs Debian's nasm and binutils.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/pagelab-kernel.elf}
[ $# -gt 0 ] && shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nasm -f elf32 "$@" -o "$work/entry.o" "$here/entry.asm"
# --build-id=none keeps the output byte-for-byte reproducible.
ld -m elf_i386 -T "$here/link.ld" --build-id=none -o "$out" "$work/entry.o"
echo "built $out"
