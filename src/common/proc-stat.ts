/**
 * CPU time from Linux's /proc stat files: `/proc/<pid>/stat` (a process, all its threads),
 * `/proc/<pid>/task/<tid>/stat` or `/proc/thread-self/stat` (one thread). Read synchronously on
 * purpose: /proc/thread-self is the thread that reads it, and an asynchronous read would run on a
 * libuv pool thread.
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: the unit of utime and stime, 100 on every Linux architecture Node runs on. */
export const USER_HZ = 100;

/** User + system CPU seconds in a stat file; throws when it cannot be read (no such process, not Linux). */
export function statCpuSeconds(file: string, clockTicks = USER_HZ): number {
  const stat = readFileSync(file, 'latin1');
  // Fields after the command name, which is in parentheses and may hold spaces: state is field 3,
  // utime 14 and stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / clockTicks;
}
