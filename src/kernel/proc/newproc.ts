// A new process's kernel objects: an address space (its own directory, the
// kernel half shared), a zeroed descriptor on the kernel heap and its record
// in the process table. All or nothing.

import { VmError } from '../vm/error.js';
import { ProcError } from './api.js';
import { kwrite, type ProcCtx, type ProcHandle } from './ctx.js';
import { P_DIRECTORY, P_MAGIC, P_PARENT, P_PID, P_STATE, PROC_MAGIC, PROC_SIZE, STATE_RUNNABLE } from './layout.js';

/** newProcess makes the objects of a process with no regions; throws ProcError('out-of-memory') if short. */
export function newProcess(k: ProcCtx, parent: number): ProcHandle {
  let space;
  try {
    space = k.vm.createSpace();
  } catch (e) {
    if (e instanceof VmError && e.kind === 'out-of-memory') throw new ProcError('out-of-memory', e.message);
    throw e;
  }
  const desc = k.heap.kcalloc(1, PROC_SIZE);
  const pid = desc === null ? null : k.table.add(desc, space);
  if (desc === null || pid === null) {
    if (desc !== null) k.heap.kfree(desc);
    k.vm.destroySpace(space);
    throw new ProcError('out-of-memory', 'out of memory for a process descriptor');
  }
  kwrite(k, desc + P_MAGIC, PROC_MAGIC);
  kwrite(k, desc + P_PID, pid);
  kwrite(k, desc + P_PARENT, parent);
  kwrite(k, desc + P_STATE, STATE_RUNNABLE);
  kwrite(k, desc + P_DIRECTORY, space.directory);
  return { pid, desc, space };
}
