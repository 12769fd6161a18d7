// Finds an installed systemd unit file and its drop-ins where systemd looks for them, and reads them (no systemd needed).

/** The unit search path of systemd's system manager, highest priority first (systemd.unit(5)). */
export const SYSTEM_UNIT_DIRECTORIES = [
  "/etc/systemd/system.control",
  "/run/systemd/system.control",
  "/run/systemd/transient",
  "/run/systemd/generator.early",
  "/etc/systemd/system",
  "/etc/systemd/system.attached",
  "/run/systemd/system",
  "/run/systemd/system.attached",
  "/run/systemd/generator",
  "/usr/local/lib/systemd/system",
  "/usr/lib/systemd/system",
  "/lib/systemd/system",
  "/run/systemd/generator.late",
] as const;

/** A unit file and its drop-ins, read. */
export interface UnitFiles {
  /** The unit file, then its drop-ins in the order systemd applies them. */
  readonly paths: readonly string[];
  /** The texts, in the same order. */
  readonly texts: readonly string[];
}

async function readIfFile(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return null; // missing, a directory, unreadable: not a unit file here
  }
}

/**
 * The unit `name` (e.g. "ntp.service") as systemd would load it: the first unit file on the
 * search path (a symlink is followed), then every `*.conf` of the type's drop-in folder
 * (`service.d`, for all services) and of `NAME.d` in all the directories, by file name, a name in
 * a higher-priority directory hiding the same name below. Null when no unit file is installed,
 * or when it is masked (a link to /dev/null, or empty). `root` prefixes every path (tests;
 * default "").
 *
 * @example
 * ```ts
 * const unit = await readUnitFiles("ntp.service");
 * if (unit !== null) console.log(unit.paths.join(", "));
 * ```
 */
export async function readUnitFiles(name: string, root = ""): Promise<UnitFiles | null> {
  let unitPath: string | null = null;
  let unitText = "";
  for (const directory of SYSTEM_UNIT_DIRECTORIES) {
    const text = await readIfFile(`${root}${directory}/${name}`);
    if (text !== null) {
      unitPath = `${directory}/${name}`;
      unitText = text;
      break;
    }
  }
  if (unitPath === null || unitText.trim() === "") return null; // not installed, or masked
  const dropIns = new Map<string, string>(); // file name -> path (without root)
  const type = name.slice(name.lastIndexOf(".") + 1);
  for (const folder of [`${type}.d`, `${name}.d`]) {
    for (const directory of SYSTEM_UNIT_DIRECTORIES) {
      let entries: Deno.DirEntry[];
      try {
        entries = [...Deno.readDirSync(`${root}${directory}/${folder}`)];
      } catch {
        continue;
      }
      for (const entry of entries) {
        // A unit's own drop-in of the same name as a type-wide one replaces it, as in systemd.
        if (!entry.name.endsWith(".conf")) continue;
        const known = dropIns.get(entry.name);
        if (known !== undefined && (folder === `${type}.d` || known.includes(`/${name}.d/`))) {
          continue;
        }
        dropIns.set(entry.name, `${directory}/${folder}/${entry.name}`);
      }
    }
  }
  const paths = [unitPath];
  const texts = [unitText];
  for (const fileName of [...dropIns.keys()].sort()) {
    const path = dropIns.get(fileName)!;
    const text = await readIfFile(`${root}${path}`);
    if (text === null) continue;
    paths.push(path);
    texts.push(text);
  }
  return { paths, texts };
}
