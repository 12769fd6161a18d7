// The text of a failed file write, with what to do when the file system is read-only (the systemd unit's sandbox).

/** The directories the shipped systemd unit (conf/ntp.service) lets the daemon write. */
export const UNIT_WRITABLE_DIRECTORIES = ["/var/lib/ntp", "/var/log/ntp"] as const;

/**
 * What to add to a write failure of `path` when the error is EROFS: under conf/ntp.service
 * (ProtectSystem=strict) everything outside its StateDirectory and LogsDirectory is read-only,
 * which is where a statsdir or logfile taken over from an old ntp.conf usually points. Empty
 * for every other error.
 *
 * @example
 * ```ts
 * const error = Object.assign(new Error("Read-only file system (os error 30)"), { code: "EROFS" });
 * readOnlyHint(error, "/var/log/ntpstats/loopstats"); // "; the file system is read-only here: ..."
 * readOnlyHint(new Error("No space left on device"), "/var/lib/ntp/ntp.drift"); // ""
 * ```
 */
export function readOnlyHint(error: unknown, path: string): string {
  if (!isReadOnlyError(error)) return "";
  const directory = path.lastIndexOf("/") > 0 ? path.slice(0, path.lastIndexOf("/")) : path;
  return `; the file system is read-only here: under the systemd unit (ProtectSystem=strict) ` +
    `only ${UNIT_WRITABLE_DIRECTORIES.join(" and ")} are writable, so use a path there or ` +
    `let the unit write ${directory} (systemctl edit ntp: [Service] ReadWritePaths=${directory})`;
}

/** Whether `error` (or its cause) is EROFS, as Deno reports it (`code`). */
function isReadOnlyError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; depth++) {
    if ((e as Error & { code?: unknown }).code === "EROFS") return true;
    e = e.cause;
  }
  return false;
}
