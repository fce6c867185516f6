#!/usr/bin/env bash
# Builds the test programs (static i386 ELF executables) and traces each under valgrind's lackey into gzip logs,
# one per process: NAME[.ARG].PID.lk.gz. Needs gcc-multilib and valgrind; the outputs are committed so that the
# tests need neither. Usage: bash test/programs/build.sh [NAME...]   (default: every program)
set -euo pipefail
cd "$(dirname "$0")"

programs=("$@")
[ ${#programs[@]} -gt 0 ] || programs=(compute malloc stack fork fault)

# trace NAME [ARG]: runs ./NAME [ARG] under lackey with the 3 GiB user layout (mmap above 1 GiB, as Linux's legacy
# i386 layout puts it), one log per process, and gzips them (-n: no name or time stamp in the gzip header).
trace() {
  local name=$1 tag=$1${2:+.$2}
  rm -f "logs/$tag".*.lk.gz
  local tmp
  tmp=$(mktemp -d)
  setarch i386 --3gb valgrind --tool=lackey --trace-mem=yes --trace-syscalls=yes --trace-children=yes \
    --aspace-minaddr=0x40000000 \
    --log-file="$tmp/$tag.%p.lk" "./$name" ${2:+"$2"} || true
  for f in "$tmp"/*.lk; do gzip -9n <"$f" >"logs/$(basename "$f").gz"; done
  rm -rf "$tmp"
}

mkdir -p logs
for p in "${programs[@]}"; do
  gcc -m32 -static -O1 -s -o "$p" "$p.c"
  if [ "$p" = fault ]; then
    for arg in rodata null kernel; do trace fault "$arg"; done
  else
    trace "$p"
  fi
done
ls -l logs
