// The log file: appended to line by line and synced, rotated by size into FILE.1 ... FILE.N (FILE.1 newest), like logrotate's numbered copies.

/** Size and count of the log file and its rotated copies. */
export interface LogFileLimits {
  /** Rotate before the file would grow past this many bytes. */
  readonly maxBytes: number;
  /** Rotated copies kept besides the current file (FILE.1 ... FILE.maxFiles). */
  readonly maxFiles: number;
}

/** An open log file; `write` throws when the file cannot be written or rotated. */
export interface RotatingLogFile extends Disposable {
  /** Appends `text` (whole lines), rotating first when it would not fit, and syncs it to disk. */
  write(text: string): void;
}

/** Shifts one rotated copy; a copy that is missing or cannot be moved is left as it is. */
function shiftCopy(from: string, to: string): void {
  try {
    Deno.renameSync(from, to);
  } catch {
    // Missing (fewer copies so far), or not ours to move: the current file still rotates.
  }
}

/**
 * Opens `path` for appending (creating it, never truncating it). Each write goes to disk at once
 * (so `tail -f` and a crash lose nothing); a write that would take the file past
 * `limits.maxBytes` first shifts FILE.k to FILE.k+1 (the oldest is overwritten) and FILE to
 * FILE.1. Throws Deno's error when the file cannot be opened.
 *
 * @example
 * ```ts
 * using file = openRotatingLogFile("/var/log/ntp/ntp.log", { maxBytes: 10 << 20, maxFiles: 5 });
 * file.write("2026-12-06 11:00:00.000 +00:00 [INF] ntp·serve: starting\n");
 * ```
 */
export function openRotatingLogFile(path: string, limits: LogFileLimits): RotatingLogFile {
  const encoder = new TextEncoder();
  const open = () => Deno.openSync(path, { append: true, create: true });
  let file: Deno.FsFile | null = open();
  let sizeBytes = file.statSync().size;
  const rotate = () => {
    file?.close();
    file = null;
    for (let copy = limits.maxFiles - 1; copy >= 1; copy--) {
      shiftCopy(`${path}.${copy}`, `${path}.${copy + 1}`);
    }
    if (limits.maxFiles >= 1) Deno.renameSync(path, `${path}.1`);
    else Deno.removeSync(path);
    file = open();
    sizeBytes = 0;
  };
  return {
    write(text: string): void {
      let bytes = encoder.encode(text);
      if (file === null) throw new Error(`${path} is closed`);
      if (sizeBytes > 0 && sizeBytes + bytes.length > limits.maxBytes) rotate();
      const target = file as Deno.FsFile;
      while (bytes.length > 0) {
        const written = target.writeSync(bytes);
        sizeBytes += written;
        bytes = bytes.subarray(written);
      }
      target.syncDataSync();
    },
    [Symbol.dispose](): void {
      file?.close();
      file = null;
    },
  };
}
