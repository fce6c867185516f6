// The system calls (i386 numbers) that write into user memory, and where: a C kernel's copy_to_user. The log
// shows the destination (an argument) but not the bytes, so the driver writes a marked pattern there (the
// exception is wait4's status, which the child's exit code gives), and --verify expects it afterwards.

import type { Syscall } from './log.js';

/** Where a call writes: the argument holding the address, and how many bytes (fixed, the result, an argument). */
interface CopyOutRule {
  readonly arg: number;
  readonly bytes: number | 'result' | { readonly arg: number };
}

const RULES: ReadonlyMap<number, CopyOutRule> = new Map<number, CopyOutRule>([
  [3, { arg: 1, bytes: 'result' }], // read(fd, buf, count)
  [13, { arg: 0, bytes: 4 }], // time(t)
  [42, { arg: 0, bytes: 8 }], // pipe(fds)
  [43, { arg: 0, bytes: 16 }], // times(buf)
  [76, { arg: 1, bytes: 8 }], // getrlimit(resource, rlim)
  [78, { arg: 0, bytes: 8 }], // gettimeofday(tv, tz)
  [85, { arg: 1, bytes: 'result' }], // readlink(path, buf, size)
  [116, { arg: 0, bytes: 64 }], // sysinfo(info)
  [122, { arg: 0, bytes: 390 }], // uname(buf): struct new_utsname
  [174, { arg: 2, bytes: 20 }], // rt_sigaction(sig, act, oldact, size): struct sigaction, old
  [175, { arg: 2, bytes: { arg: 3 } }], // rt_sigprocmask(how, set, oldset, size)
  [180, { arg: 1, bytes: 'result' }], // pread64(fd, buf, count, ...)
  [191, { arg: 1, bytes: 8 }], // ugetrlimit(resource, rlim)
  [195, { arg: 1, bytes: 96 }], // stat64(path, buf)
  [196, { arg: 1, bytes: 96 }], // lstat64(path, buf)
  [197, { arg: 1, bytes: 96 }], // fstat64(fd, buf)
  [220, { arg: 1, bytes: 'result' }], // getdents64(fd, dirp, count)
  [243, { arg: 0, bytes: 4 }], // set_thread_area(u_info): the entry number written back
  [265, { arg: 1, bytes: 8 }], // clock_gettime(clock, tp)
  [300, { arg: 2, bytes: 96 }], // fstatat64(dirfd, path, buf, flags)
  [340, { arg: 3, bytes: 8 }], // prlimit64(pid, resource, new, old)
  [355, { arg: 0, bytes: 'result' }], // getrandom(buf, count, flags)
  [383, { arg: 4, bytes: 256 }], // statx(dirfd, path, flags, mask, buf)
  [403, { arg: 1, bytes: 16 }], // clock_gettime64(clock, tp)
]);

/** The wait calls: wait4(pid, status, options, rusage) and waitpid(pid, status, options). */
export const WAIT_CALLS: ReadonlySet<number> = new Set([7, 114]);

/** copyOutOf says where a successful call wrote user memory: [address, length], or null (a null pointer, none). */
export function copyOutOf(call: Syscall): [number, number] | null {
  const rule = RULES.get(call.nr);
  if (rule === undefined || call.failed || call.result === null) return null;
  const addr = call.args[rule.arg] ?? 0;
  const length =
    rule.bytes === 'result'
      ? call.result
      : typeof rule.bytes === 'number'
        ? rule.bytes
        : (call.args[rule.bytes.arg] ?? 0);
  if (addr === 0 || length <= 0) return null;
  return [addr >>> 0, Math.min(length, 1 << 20)];
}

/** patternFor is the marked pattern a copy-out of `length` bytes writes for the call on `line` of its log. */
export function patternFor(line: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (0xa5 ^ (line * 31 + i)) & 0xff;
  return out;
}
