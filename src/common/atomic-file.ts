/** Crash-safe file replacement: the old content or the new, never a torn mix, after a crash. */
import fs from 'node:fs';
import path from 'node:path';

/** Writes data to path atomically: tmp file, fsync, rename, fsync of the directory. */
export function writeFileAtomic(file: string, data: string | Buffer): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

/**
 * writeFileAtomic off the event loop. An fsync can take tens of ms on a busy disk; on the loop that
 * stalls every connection for as long. `data` goes to `tmp` and is fsynced in libuv's thread pool;
 * then, unless `overtaken()` says the write has gone stale meanwhile (a newer write of `file`; `tmp`
 * is then removed), `tmp` is renamed over `file` on the loop — ordered with synchronous writers of the
 * same file, so `tmp` must not be writeFileAtomic's — and the directory is fsynced in the pool.
 * Resolves true once the new content is durable, false when overtaken; rejects on a failure.
 */
export async function replaceFileInBackground(
  file: string,
  tmp: string,
  data: string | Buffer,
  overtaken: () => boolean,
): Promise<boolean> {
  await writeDurablyInBackground(tmp, data);
  if (overtaken()) {
    await fs.promises.rm(tmp, { force: true });
    return false;
  }
  fs.renameSync(tmp, file);
  await fsyncDirInBackground(path.dirname(file));
  return true;
}

/** Writes `data` to `tmp` and fsyncs it, in libuv's thread pool. */
async function writeDurablyInBackground(tmp: string, data: string | Buffer): Promise<void> {
  const fh = await fs.promises.open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * fsyncs `file` in libuv's thread pool; a file already gone (deleted by retention or truncation
 * meanwhile) needs nothing. Other failures reject.
 */
export async function fsyncFileInBackground(file: string): Promise<void> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsyncDir off the event loop. */
async function fsyncDirInBackground(dir: string): Promise<void> {
  // Failures ignored, as fsyncDir's: some platforms cannot fsync directories; the rename is still atomic.
  await fsyncFileInBackground(dir).catch(() => {});
}

export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // some platforms cannot fsync directories; the rename is still atomic
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
