import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Lower the CPU priority of the whole process to `nice`. On Linux niceness belongs to each thread, and
 * os.setPriority(n) changes only the calling one: V8's platform workers and any libuv thread already started would
 * stay at 0. So every thread in /proc/self/task is reniced by its id; threads started later inherit the main
 * thread's value. Raising one's own niceness needs no privilege; a thread that refuses (or a sandbox without
 * /proc) only keeps the normal priority.
 */
export function lowerProcessPriority(nice: number): void {
  let tids: number[] = [0]; // 0 = the calling thread (the whole process where there is no /proc, e.g. macOS)
  try {
    tids = readdirSync('/proc/self/task').map(Number);
  } catch {
    /* no /proc: the calling thread only */
  }
  for (const tid of tids) {
    try {
      setPriority(tid, nice);
    } catch {
      /* keep the normal priority (the thread may have exited meanwhile) */
    }
  }
}
