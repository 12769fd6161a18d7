// The text of a failed file write, with what to do when the file system is read-only (the systemd unit's sandbox).
import {
  SHIPPED_UNIT_SANDBOX,
  unitMayWrite,
  writeFixFor,
  writtenDirectory,
} from "../core/doctor/unit_sandbox_check.ts";

/**
 * What to add to a write failure of `path` when the error is EROFS: under conf/ntp.service
 * (ProtectSystem=strict, DynamicUser) everything outside /var/lib/ntp and /var/log/ntp is
 * read-only, which is where a statsdir or logfile taken over from an old ntp.conf usually points;
 * the hint says so and how to fix it for the file's directory. A path the unit may write gets
 * only "the file system is read-only here" (then it is the machine's mount, not the unit). Empty
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
  const written = writtenDirectory({ path, directory: false });
  if (unitMayWrite(SHIPPED_UNIT_SANDBOX, written)) return "; the file system is read-only here";
  return "; the file system is read-only here: if this runs under the systemd unit " +
    "(ProtectSystem=strict), only /var/lib/ntp and /var/log/ntp are writable to it; " +
    `for ${written}: ${writeFixFor(written, SHIPPED_UNIT_SANDBOX)}`;
}

/** Whether `error` (or its cause) is EROFS, as Deno reports it (`code`). */
function isReadOnlyError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; depth++) {
    if ((e as Error & { code?: unknown }).code === "EROFS") return true;
    e = e.cause;
  }
  return false;
}
