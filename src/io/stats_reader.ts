// Reads the lines of one statistics file set (loopstats.*, peerstats.*) from the statistics directory for a time window, as NTPsec's ntpviz picks its files.

/** The statistics directory cannot be listed (missing, not a directory) or a file in it cannot be read. */
export class StatsReadError extends Error {
  override name = "StatsReadError";
  /** The directory or file at fault. */
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}

/**
 * Every line of the set `baseName` in `directory` that may fall in the window: the files
 * `baseName.*` (gzipped ones, `.gz`, decompressed) last modified at or after `fromUnixSeconds`,
 * in name order; the file `baseName` itself only when there is no such file at all (it is the
 * hard link to the current one, or the whole set with `filegen ... type none`). A file that
 * vanishes while being read is skipped. The lines are not parsed nor checked against the window.
 *
 * @throws {StatsReadError} When the directory does not exist or cannot be listed, or a file
 * cannot be read (permission, a damaged .gz).
 * @example
 * ```ts
 * const lines = await readStatsLines("/var/log/ntpstats", "loopstats", {
 *   fromUnixSeconds: Date.now() / 1000 - 86_400,
 * });
 * ```
 */
export async function readStatsLines(
  directory: string,
  baseName: string,
  window: { readonly fromUnixSeconds: number; readonly toUnixSeconds?: number },
): Promise<string[]> {
  const names: string[] = [];
  let baseExists = false;
  try {
    for await (const entry of Deno.readDir(directory)) {
      if (entry.name === baseName) baseExists = true;
      else if (entry.name.startsWith(`${baseName}.`)) names.push(entry.name);
    }
  } catch (error) {
    throw directoryError(directory, error);
  }
  names.sort();
  const lines: string[] = [];
  let datedFiles = 0;
  for (const name of names) {
    const info = await statOrNull(`${directory}/${name}`);
    if (info === null || !info.isFile) continue;
    datedFiles++;
    const modifiedUnixSeconds = (info.mtime?.getTime() ?? Number.POSITIVE_INFINITY) / 1000;
    if (modifiedUnixSeconds < window.fromUnixSeconds) continue;
    // A day file (NAME.YYYYMMDD[.gz]) that starts after the window holds nothing for it.
    const day = /\.(\d{4})(\d{2})(\d{2})(\.gz)?$/.exec(name);
    if (day !== null && window.toUnixSeconds !== undefined) {
      const startsUnixSeconds = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3])) / 1000;
      if (startsUnixSeconds > window.toUnixSeconds) continue;
    }
    for (const line of await linesOf(`${directory}/${name}`, name.endsWith(".gz"))) {
      lines.push(line);
    }
  }
  if (datedFiles === 0 && baseExists) {
    for (const line of await linesOf(`${directory}/${baseName}`, false)) lines.push(line);
  }
  return lines;
}

function directoryError(directory: string, error: unknown): StatsReadError {
  if (error instanceof Deno.errors.NotFound) {
    return new StatsReadError(directory, `statistics directory ${directory} does not exist`);
  }
  if (error instanceof Deno.errors.NotADirectory) {
    return new StatsReadError(directory, `${directory} is not a directory`);
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new StatsReadError(
      directory,
      `cannot list the statistics directory ${directory}: permission denied (run as a user who can read it)`,
    );
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new StatsReadError(
    directory,
    `cannot list the statistics directory ${directory}: ${reason}`,
  );
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

async function linesOf(path: string, gzipped: boolean): Promise<string[]> {
  let text: string;
  try {
    const file = await Deno.open(path);
    const stream = gzipped
      ? file.readable.pipeThrough(new DecompressionStream("gzip"))
      : file.readable;
    text = await new Response(stream).text();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    const reason = error instanceof Error ? error.message : String(error);
    throw new StatsReadError(path, `cannot read ${path}: ${reason}`);
  }
  return text.split("\n").filter((line) => line.trim() !== "");
}
