// Lists the processes on this machine from /proc: name, command line, network namespace and whether they hold CAP_SYS_TIME.
import { listProcessIds, readProcLink, readProcText } from "./proc_files.ts";

/** One process as /proc shows it. */
export interface ProcessInfo {
  readonly pid: number;
  /** /proc/PID/comm: the name, at most 15 characters ("systemd-timesyn"). */
  readonly name: string;
  /** /proc/PID/cmdline split at NULs; [] for kernel threads or when unreadable. */
  readonly args: readonly string[];
  /** /proc/PID/ns/net ("net:[4026531840]"), or null when unreadable. */
  readonly networkNamespace: string | null;
  /** Whether CAP_SYS_TIME is in its effective set (/proc/PID/status CapEff), null if unknown. */
  readonly holdsSysTime: boolean | null;
}

/** Bit of CAP_SYS_TIME in the capability sets. */
const capSysTimeBit = 25n;

/** Whether a /proc/PID/status text's CapEff has CAP_SYS_TIME; null when the line is missing. */
export function capEffHoldsSysTime(statusText: string): boolean | null {
  const match = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(statusText);
  if (match === null) return null;
  return ((BigInt(`0x${match[1]}`) >> capSysTimeBit) & 1n) === 1n;
}

/** Reads one process; null when it is gone or its name cannot be read. */
export function readProcess(pid: number): ProcessInfo | null {
  const comm = readProcText(`/proc/${pid}/comm`);
  if (comm === null) return null;
  const cmdline = readProcText(`/proc/${pid}/cmdline`) ?? "";
  const status = readProcText(`/proc/${pid}/status`);
  return {
    pid,
    name: comm.replace(/\n$/, ""),
    args: cmdline.split("\0").filter((arg, index, all) => arg !== "" || index < all.length - 1),
    networkNamespace: readProcLink(`/proc/${pid}/ns/net`),
    holdsSysTime: status === null ? null : capEffHoldsSysTime(status),
  };
}

/**
 * Every process whose name is in `names` (all processes when `names` is absent). Processes that
 * end while being read are left out.
 *
 * @example
 * ```ts
 * listProcesses({ names: ["chronyd", "ntpd"] }); // [{ pid: 812, name: "chronyd", ... }]
 * ```
 */
export function listProcesses(options: { readonly names?: readonly string[] } = {}): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const pid of listProcessIds()) {
    if (options.names !== undefined) {
      const comm = readProcText(`/proc/${pid}/comm`)?.replace(/\n$/, "");
      if (comm === undefined || !options.names.includes(comm)) continue;
    }
    const info = readProcess(pid);
    if (info !== null) found.push(info);
  }
  return found;
}

/** This process's network namespace ("net:[4026531840]"), or null when unreadable. */
export function ownNetworkNamespace(): string | null {
  return readProcLink(`/proc/${Deno.pid}/ns/net`);
}
