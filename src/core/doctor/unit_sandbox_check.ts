// Doctor check: every file the config has the daemon write lies where the installed systemd unit lets it write (ProtectSystem, DynamicUser, StateDirectory, LogsDirectory, ReadWritePaths); and the fix for a path it does not.

import { type Finding, ok, warn } from "./finding.ts";

/** The [Service] settings of a unit file and its drop-ins that decide what the daemon may write. */
export interface UnitSandbox {
  /** `ProtectSystem=` as the last assignment left it ("no" when never set). */
  readonly protectSystem: string;
  /** `DynamicUser=` is on: ProtectSystem=strict and PrivateTmp whatever they say. */
  readonly dynamicUser: boolean;
  /** `PrivateTmp=` is on (or implied by DynamicUser): /tmp and /var/tmp are the service's own. */
  readonly privateTmp: boolean;
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

/**
 * What conf/ntp.service declares (tests/io/write_failure_text_test.ts compares the two): the
 * sandbox a write failure's hint assumes when the daemon cannot look at the installed unit.
 */
export const SHIPPED_UNIT_SANDBOX: UnitSandbox = {
  protectSystem: "strict",
  dynamicUser: true,
  privateTmp: true,
  stateDirectories: ["ntp"],
  logsDirectories: ["ntp"],
  cacheDirectories: [],
  runtimeDirectories: [],
  readWritePaths: [],
};

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

/** systemd's boolean words. */
function truthy(value: string): boolean {
  return ["1", "yes", "y", "true", "t", "on"].includes(value.toLowerCase());
}

/**
 * Reads the [Service] section of a unit file and its drop-ins, in order: list settings add their
 * space-separated values, an empty assignment clears the list, `ProtectSystem=`, `DynamicUser=`
 * and `PrivateTmp=` keep their last value. Comments (# ;), other sections and other keys are
 * skipped; line continuations (a trailing backslash) are joined; CRLF line ends are read too.
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
  let dynamicUser = false;
  let privateTmp = false;
  const lists: Record<(typeof listSettings)[keyof typeof listSettings], string[]> = {
    stateDirectories: [],
    logsDirectories: [],
    cacheDirectories: [],
    runtimeDirectories: [],
    readWritePaths: [],
  };
  for (const text of texts) {
    let section = "";
    for (const line of text.replace(/\r\n/g, "\n").replace(/\\\n/g, " ").split("\n")) {
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
      } else if (key === "DynamicUser") {
        dynamicUser = truthy(value);
      } else if (key === "PrivateTmp") {
        privateTmp = truthy(value);
      } else if (Object.hasOwn(listSettings, key)) {
        const list = lists[listSettings[key as keyof typeof listSettings]];
        if (value === "") list.length = 0;
        else list.push(...value.split(/\s+/).map((word) => word.replace(/^[-+]+/, "")));
      }
    }
  }
  return {
    protectSystem: dynamicUser ? "strict" : protectSystem,
    dynamicUser,
    privateTmp: privateTmp || dynamicUser,
    ...lists,
  };
}

/**
 * `path` made absolute-looking and plain: repeated slashes folded, "." dropped, ".." taken back
 * (never above "/"), no trailing slash.
 *
 * @example
 * ```ts
 * normalisePath("/var/lib/ntp/../../../etc//ntp.drift"); // "/etc/ntp.drift"
 * ```
 */
export function normalisePath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

/**
 * The directory the daemon must be able to write for `write`: the path itself for a directory
 * (statsdir), else the file's directory (the drift and key files are replaced by a rename).
 *
 * @example
 * ```ts
 * writtenDirectory({ path: "/var/lib/ntp/ntp.drift", directory: false }); // "/var/lib/ntp"
 * ```
 */
export function writtenDirectory(
  write: { readonly path: string; readonly directory: boolean },
): string {
  const path = normalisePath(write.path);
  if (write.directory) return path;
  const slash = path.lastIndexOf("/");
  return slash > 0 ? path.slice(0, slash) : "/";
}

/** `path` is `root` or lies below it (whole path components; both normalised). */
function under(path: string, root: string): boolean {
  const base = normalisePath(root);
  return base === "/" || path === base || path.startsWith(`${base}/`);
}

/** The directories ProtectSystem=strict leaves writable to the service. */
function strictWritable(sandbox: UnitSandbox): string[] {
  return [
    ...sandbox.stateDirectories.map((name) => `/var/lib/${name}`),
    ...sandbox.logsDirectories.map((name) => `/var/log/${name}`),
    ...sandbox.cacheDirectories.map((name) => `/var/cache/${name}`),
    ...sandbox.runtimeDirectories.map((name) => `/run/${name}`),
    ...sandbox.readWritePaths,
    ...(sandbox.privateTmp ? ["/tmp", "/var/tmp"] : []),
    "/dev/shm",
  ];
}

/**
 * Whether the unit lets its service write in `directory`. ProtectSystem=strict (also forced by
 * DynamicUser) leaves only its State/Logs/Cache/Runtime directories, ReadWritePaths, /dev/shm
 * and, with PrivateTmp, /tmp and /var/tmp writable; "full" makes /usr, /boot, /efi and /etc
 * read-only, "yes" the first three; "no" nothing.
 *
 * @example
 * ```ts
 * const sandbox = parseUnitSandbox(["[Service]\nProtectSystem=strict\nLogsDirectory=ntp\n"]);
 * unitMayWrite(sandbox, "/var/log/ntp"); // true
 * unitMayWrite(sandbox, "/var/log/ntpstats"); // false
 * ```
 */
export function unitMayWrite(sandbox: UnitSandbox, directory: string): boolean {
  const path = normalisePath(directory);
  const mode = sandbox.protectSystem;
  if (mode === "strict") return strictWritable(sandbox).some((root) => under(path, root));
  const readOnly = mode === "full"
    ? ["/usr", "/boot", "/efi", "/etc"]
    : truthy(mode)
    ? ["/usr", "/boot", "/efi"]
    : [];
  return !readOnly.some((root) => under(path, root)) ||
    sandbox.readWritePaths.some((root) => under(path, root));
}

/**
 * How to let the service write in `directory`, one line: under /var/lib, /var/log or /var/cache
 * a StateDirectory=/LogsDirectory=/CacheDirectory= entry in a drop-in (systemd creates the
 * directory and gives it to the service's user, the dynamic one too); elsewhere, with
 * DynamicUser, a directory under the unit's own (a dynamic user owns nothing else); else
 * ReadWritePaths= (the directory must also be writable to the service's User=).
 *
 * @example
 * ```ts
 * writeFixFor("/var/log/ntpstats", SHIPPED_UNIT_SANDBOX);
 * // "systemctl edit ntp and add [Service] LogsDirectory=ntpstats (systemd creates /var/log/ntpstats for the service's user)"
 * ```
 */
export function writeFixFor(directory: string, sandbox: UnitSandbox): string {
  const path = normalisePath(directory);
  const own = [
    ...sandbox.stateDirectories.map((name) => `/var/lib/${name}`),
    ...sandbox.logsDirectories.map((name) => `/var/log/${name}`),
  ];
  const instead = own.length > 0 ? own.join(" or ") : "/var/lib/ntp";
  for (
    const [root, key] of [["/var/lib", "StateDirectory"], ["/var/log", "LogsDirectory"], [
      "/var/cache",
      "CacheDirectory",
    ]] as const
  ) {
    if (path.startsWith(`${root}/`)) {
      return `systemctl edit ntp and add [Service] ${key}=${path.slice(root.length + 1)} ` +
        `(systemd creates ${path} for the service's user), or use ${instead}`;
    }
  }
  if (path === "/" || sandbox.dynamicUser) {
    return `use a path under ${instead}` +
      (sandbox.dynamicUser ? " (the unit's dynamic user can own no other directory)" : "");
  }
  return `systemctl edit ntp and add [Service] ReadWritePaths=-${path} (and make ${path} ` +
    `writable to the service's User=), or use a path under ${instead}`;
}

/**
 * The "unit sandbox" finding: WARN naming each path the daemon is configured to write that the
 * installed unit keeps read-only (those writes would fail with "Read-only file system"; serving
 * goes on), with the fix for each; OK when every one is writable. Null when no unit is installed
 * (nothing to judge: the daemon is run some other way).
 *
 * @example
 * ```ts
 * checkUnitSandbox({
 *   files: ["/etc/systemd/system/ntp.service"],
 *   sandbox: SHIPPED_UNIT_SANDBOX,
 *   writes: [{ setting: "statsdir", path: "/var/log/ntpstats", directory: true }],
 * })?.status; // "warn"
 * ```
 */
export function checkUnitSandbox(facts: UnitSandboxFacts | null): Finding | null {
  if (facts === null) return null;
  const check = "unit sandbox";
  const unit = facts.files[0] ?? "the unit";
  const mode = `ProtectSystem=${facts.sandbox.protectSystem}${
    facts.sandbox.dynamicUser ? ", DynamicUser" : ""
  }`;
  const blocked = facts.writes.filter((write) =>
    !unitMayWrite(facts.sandbox, writtenDirectory(write))
  );
  if (blocked.length === 0) {
    const what = facts.writes.length === 0
      ? "the config has the daemon write no files"
      : facts.writes.map((write) => `${write.setting} ${write.path}`).join(", ") + " writable";
    return ok(check, `${unit} (${mode}): ${what}`);
  }
  const fixes = [...new Set(blocked.map((write) => writtenDirectory(write)))].map((directory) =>
    `${directory}: ${writeFixFor(directory, facts.sandbox)}`
  );
  return warn(
    check,
    `${unit} (${mode}) keeps ${
      blocked.map((write) => `${write.setting} ${write.path}`).join(", ")
    } read-only: those writes will fail (serving goes on)`,
    fixes.join("; "),
  );
}
