/**
 * The optional native helper built from native/*.c by `npm ci` (scripts/build-native.mjs): sendfile(2)
 * of segment bytes to a client's socket on libuv's pool threads and dup(2) (`zeroCopy()`), and the
 * CPU's CRC-32C instruction (`nativeCrc32c()`). Absent (no C compiler when installed, not Linux),
 * both are null: fetches are served from buffers, checksums by the crc32 library.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** A range of an open file, sent as it is (the caller owns `fd`). */
export interface FilePart {
  readonly fd: number;
  readonly position: number;
  readonly length: number;
}

export interface ZeroCopy {
  /**
   * Writes `parts` in order to the non-blocking socket `socketFd` on a pool thread, waiting for room at
   * most `stallMs` without progress and `maxMs` in all; `done(errno, index, offset, truncated)` says how
   * far it got (index === parts.length: all of it).
   */
  sendParts(
    socketFd: number,
    parts: readonly (Buffer | FilePart)[],
    stallMs: number,
    maxMs: number,
    done: (errno: number, index: number, offset: number, truncated: boolean) => void,
  ): void;
  /** A new descriptor of the same open file (close-on-exec); throws with the errno's name as `code`. */
  dup(fd: number): number;
}

/**
 * dup() failed for want of a descriptor (the process's or the system's limit: EMFILE, ENFILE) —
 * not a fault of the file or the socket: the bytes go from a buffer instead.
 */
export function isDescriptorShortage(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

interface NativeModule extends ZeroCopy {
  /** Present only where the CPU has a CRC-32C instruction (SSE 4.2). */
  crc32c?: (data: Uint8Array) => number;
}

let loaded: NativeModule | null | undefined;

function nativeModule(): NativeModule | null {
  if (loaded === undefined) {
    loaded = null;
    // ../../build from src/common, dist/common and dist/bundle alike: the package's root.
    const file = fileURLToPath(new URL('../../build/kbroker_native.node', import.meta.url));
    try {
      loaded = createRequire(import.meta.url)(file) as NativeModule;
    } catch {
      // not built here: the copying path serves fetches, the library computes checksums
    }
  }
  return loaded;
}

/** The native helper's sends, or null when it was not built (or `KBROKER_ZERO_COPY=false`). */
export function zeroCopy(): ZeroCopy | null {
  return process.env.KBROKER_ZERO_COPY === 'false' ? null : nativeModule();
}

/**
 * CRC-32C by the CPU's instruction, three streams at once (2.2× the crc32 library's speed on 10 KiB
 * here, 2× on 100 KiB), or null: not built, a CPU without it, or `KBROKER_NATIVE_CRC32C=false`.
 */
export function nativeCrc32c(): ((data: Uint8Array) => number) | null {
  if (process.env.KBROKER_NATIVE_CRC32C === 'false') return null;
  return nativeModule()?.crc32c ?? null;
}
