// Doctor check: every file the config has the daemon write lies where the installed systemd unit lets it write (ProtectSystem, StateDirectory, LogsDirectory, ReadWritePaths).

import { type Finding, ok, warn } from "./finding.ts";

/** The [Service] settings of a unit file and its drop-ins that decide what the daemon may write. */
export interface UnitSandbox {
  /** `ProtectSystem=` as the last assignment left it ("no" when never set). */
  readonly protectSystem: string;
  /** Directory names under /var/lib (`StateDirectory=`). */
  readonly stateDirectories: readonly string[];
  /** Directory names under /var/log (`LogsDirectory=`). */
  readonly logsDirectories: readonly string[];
  /** Directory names under /var/cache (`CacheDirectory=`). */
  readonly cacheDirectories: readonly string[];
  /** Directory names under /run (`RuntimeDirectory=`). */
  readonly runtimeDirectories: readonly string[];
  /** Absolute paths (`ReadWritePaths=`, without the "-" and "+" prefixes). */
  readonly readWritePaths: readonly string[];
}

/** What the doctor found: the unit's files and sandbox, and the paths the daemon writes. */
export interface UnitSandboxFacts {
  /** The unit file, then its drop-ins in the order systemd applies them. */
  readonly files: readonly string[];
  readonly sandbox: UnitSandbox;
  /** Each file or directory the config has the daemon write, with the setting naming it. */
  readonly writes: readonly {
    readonly setting: string;
    readonly path: string;
    readonly directory: boolean;
  }[];
}

const listSettings = {
  StateDirectory: "stateDirectories",
  LogsDirectory: "logsDirectories",
  CacheDirectory: "cacheDirectories",
  RuntimeDirectory: "runtimeDirectories",
  ReadWritePaths: "readWritePaths",
} as const;

/**
 * Reads the [Service] section of a unit file and its drop-ins, in order: list settings add their
 * space-separated values, an empty assignment clears the list, `ProtectSystem=` keeps its last
 * value. Comments (# ;), other sections and other keys are skipped; line continuations (a
 * trailing backslash) are joined.
 *
 * @example
 * ```ts
 * const sandbox = parseUnitSandbox([
 *   "[Service]\nProtectSystem=strict\nStateDirectory=ntp\nLogsDirectory=ntp\n",
 *   "[Service]\nReadWritePaths=/var/log/ntpstats\n",
 * ]);
 * sandbox.readWritePaths; // ["/var/log/ntpstats"]
 * ```
 */
export function parseUnitSandbox(texts: readonly string[]): UnitSandbox {
  let protectSystem = "no";
  const lists: Record<(typeof listSettings)[keyof typeof listSettings], string[]> = {
    stateDirectories: [],
    logsDirectories: [],
    cacheDirectories: [],
    runtimeDirectories: [],
    readWritePaths: [],
  };
  for (const text of texts) {
    let section = "";
    for (const line of text.replace(/\\\n/g, " ").split("\n")) {
      const trimmed = line.trim();
      if (trimmed === "" || trimmed.startsWith("#") || trimmed.startsWith(";")) continue;
      if (trimmed.startsWith("[")) {
        section = trimmed;
        continue;
      }
      if (section !== "[Service]") continue;
      const equals = trimmed.indexOf("=");
      if (equals < 0) continue;
      const key = trimmed.slice(0, equals).trim();
      const value = trimmed.slice(equals + 1).trim();
      if (key === "ProtectSystem") {
        protectSystem = value === "" ? "no" : value.toLowerCase();
      } else if (Object.hasOwn(listSettings, key)) {
        const list = lists[listSettings[key as keyof typeof listSettings]];
        if (value === "") list.length = 0;
        else list.push(...value.split(/\s+/).map((word) => word.replace(/^[-+]+/, "")));
      }
    }
  }
  return { protectSystem, ...lists };
}

/** `path` is `root` or lies below it (whole path components). */
function under(path: string, root: string): boolean {
  const base = root.replace(/\/+$/, "");
  return path === base || path.startsWith(`${base}/`) || base === "";
}

/**
 * Whether the unit lets its service write `path` (a file's directory, or a directory). With
 * ProtectSystem=strict only its State/Logs/Cache/Runtime directories, ReadWritePaths, /tmp,
 * /var/tmp and /dev/shm are writable; "full" makes /usr, /boot, /efi and /etc read-only, "yes"
 * or "true" the first three; "no" nothing.
 *
 * @example
 * ```ts
 * const sandbox = parseUnitSandbox(["[Service]\nProtectSystem=strict\nLogsDirectory=ntp\n"]);
 * unitMayWrite(sandbox, "/var/log/ntp"); // true
 * unitMayWrite(sandbox, "/var/log/ntpstats"); // false
 * ```
 */
export function unitMayWrite(sandbox: UnitSandbox, path: string): boolean {
  const mode = sandbox.protectSystem;
  if (mode === "strict") {
    const writable = [
      ...sandbox.stateDirectories.map((name) => `/var/lib/${name}`),
      ...sandbox.logsDirectories.map((name) => `/var/log/${name}`),
      ...sandbox.cacheDirectories.map((name) => `/var/cache/${name}`),
      ...sandbox.runtimeDirectories.map((name) => `/run/${name}`),
      ...sandbox.readWritePaths,
      "/tmp",
      "/var/tmp",
      "/dev/shm",
    ];
    return writable.some((root) => under(path, root));
  }
  const readOnly = mode === "full"
    ? ["/usr", "/boot", "/efi", "/etc"]
    : mode === "yes" || mode === "true" || mode === "on" || mode === "1"
    ? ["/usr", "/boot", "/efi"]
    : [];
  return !readOnly.some((root) => under(path, root)) ||
    sandbox.readWritePaths.some((root) => under(path, root));
}

/**
 * The "unit sandbox" finding: WARN naming each path the daemon is configured to write that the
 * installed unit keeps read-only (those writes would fail with "Read-only file system"; serving
 * goes on), with the fix; OK when every one is writable. Null when no unit is installed (nothing
 * to judge: the daemon is run some other way).
 *
 * @example
 * ```ts
 * const sandbox = parseUnitSandbox(["[Service]\nProtectSystem=strict\nStateDirectory=ntp\n"]);
 * checkUnitSandbox({
 *   files: ["/etc/systemd/system/ntp.service"],
 *   sandbox,
 *   writes: [{ setting: "statsdir", path: "/var/log/ntpstats", directory: true }],
 * })?.status; // "warn"
 * ```
 */
export function checkUnitSandbox(facts: UnitSandboxFacts | null): Finding | null {
  if (facts === null) return null;
  const check = "unit sandbox";
  const unit = facts.files[0] ?? "the unit";
  const blocked = facts.writes.filter((write) => {
    const directory = write.directory ? write.path : parentOf(write.path);
    return !unitMayWrite(facts.sandbox, directory);
  });
  if (blocked.length === 0) {
    const what = facts.writes.length === 0
      ? "the config has the daemon write no files"
      : facts.writes.map((write) => `${write.setting} ${write.path}`).join(", ") + " writable";
    return ok(check, `${unit} (ProtectSystem=${facts.sandbox.protectSystem}): ${what}`);
  }
  const directories = [
    ...new Set(blocked.map((write) => write.directory ? write.path : parentOf(write.path))),
  ];
  return warn(
    check,
    `${unit} (ProtectSystem=${facts.sandbox.protectSystem}) keeps ${
      blocked.map((write) => `${write.setting} ${write.path}`).join(", ")
    } read-only: those writes will fail (serving goes on)`,
    `move them under ${writableRoots(facts.sandbox)}, or systemctl edit ntp and add ` +
      `[Service] ReadWritePaths=${directories.join(" ")}`,
  );
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash > 0 ? path.slice(0, slash) : "/";
}

function writableRoots(sandbox: UnitSandbox): string {
  const roots = [
    ...sandbox.stateDirectories.map((name) => `/var/lib/${name}`),
    ...sandbox.logsDirectories.map((name) => `/var/log/${name}`),
  ];
  return roots.length > 0 ? roots.join(" or ") : "a directory the unit may write";
}
