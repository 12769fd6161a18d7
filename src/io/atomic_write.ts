// Replaces a file so that a crash (kill -9, power loss) at any moment leaves the old file or the new one, never a torn one: temporary file, fsync, rename, fsync of the directory.

/** A write that failed at `step`; the old file is untouched and the temporary file removed. */
export class AtomicWriteError extends Error {
  override name = "AtomicWriteError";
  /** "create", "write", "fsync", "rename" or "directory fsync" (the new file is in place then). */
  readonly step: string;
  /** The temporary file used (its directory for "directory fsync"). */
  readonly temporary: string;
  constructor(step: string, temporary: string, cause: unknown) {
    super(`${step} of ${temporary}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.step = step;
    this.temporary = temporary;
  }
}

function splitPath(path: string): { directory: string; base: string } {
  const slash = path.lastIndexOf("/");
  if (slash < 0) return { directory: ".", base: path };
  return { directory: slash === 0 ? "/" : path.slice(0, slash), base: path.slice(slash + 1) };
}

/**
 * A temporary file's name for `path` (hidden, beside it): the writer's PID and a random part, so
 * that two writes at once (in one process, or two servers sharing a file) never share one.
 */
export function temporaryPathFor(path: string, pid: number): string {
  const { directory, base } = splitPath(path);
  const random = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(16).padStart(8, "0");
  return `${directory}/.${base}.tmp-${pid}-${random}`;
}

/** A temporary file older than this is a leftover (a write takes milliseconds). */
const leftoverAgeMs = 60_000;

/**
 * Removes temporary files of `path` left by writers killed mid-write (kill -9, power loss): those
 * older than a minute. A younger one may belong to another live writer (servers sharing a key
 * file), and is left alone.
 */
async function sweepLeftovers(path: string): Promise<void> {
  const { directory, base } = splitPath(path);
  const prefix = `.${base}.tmp-`;
  try {
    for await (const entry of Deno.readDir(directory)) {
      if (!entry.name.startsWith(prefix)) continue;
      const leftover = `${directory}/${entry.name}`;
      const modified = (await Deno.lstat(leftover).catch(() => null))?.mtime?.getTime();
      if (modified !== undefined && Date.now() - modified > leftoverAgeMs) {
        await Deno.remove(leftover).catch(() => {});
      }
    }
  } catch { /* an unreadable directory: the write reports what matters */ }
}

/**
 * Writes `text` to `path` atomically with `mode` (applied whatever the umask): the text goes to a
 * temporary file beside it, which is fsynced and renamed over `path`, then the directory is
 * fsynced. A reader, or a crash at any moment, sees the old file or the new one. Temporary files
 * left over a minute ago by writers killed mid-write are removed first.
 *
 * @throws {AtomicWriteError} Naming the step that failed; the old file stays as it was (unless the
 * step is "directory fsync": the new file is in place but may not survive a power loss).
 * @example
 * ```ts
 * await writeFileAtomically("/var/lib/ntp/ntp.drift", "-12.345\n", { mode: 0o644 });
 * ```
 */
export async function writeFileAtomically(
  path: string,
  text: string,
  options: { readonly mode: number },
): Promise<void> {
  await sweepLeftovers(path);
  // A new name every time, created exclusively (O_EXCL: a planted file or symlink is refused).
  const temporary = temporaryPathFor(path, Deno.pid);
  let step = "create";
  try {
    const file = await Deno.open(temporary, { write: true, createNew: true, mode: options.mode });
    try {
      step = "write";
      await Deno.chmod(temporary, options.mode); // the creation mode went through the umask
      const bytes = new TextEncoder().encode(text);
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      step = "fsync";
      await file.sync();
    } finally {
      file.close();
    }
    step = "rename";
    await Deno.rename(temporary, path);
  } catch (error) {
    // Not ours to remove when the name was taken (create failed): nothing was made then.
    if (step !== "create") await Deno.remove(temporary).catch(() => {});
    throw new AtomicWriteError(step, temporary, error);
  }
  try {
    const handle = await Deno.open(splitPath(path).directory, { read: true });
    try {
      await handle.sync();
    } finally {
      handle.close();
    }
  } catch (error) {
    throw new AtomicWriteError("directory fsync", splitPath(path).directory, error);
  }
}
