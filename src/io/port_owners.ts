// Names the processes holding a UDP port: `ss -Hulpn` when installed, else /proc/net/udp{,6} matched against every process's socket fds.
import {
  parseProcNetUdp,
  parseSsUdpOwners,
  type PortOwner,
  socketInodeOfLink,
} from "../core/doctor/port_owner_parsing.ts";
import { listProcDirectory, listProcessIds, readProcLink, readProcText } from "./proc_files.ts";
import { runProgram } from "./run_program.ts";

/** The holders found and where the answer came from. */
export interface PortOwners {
  readonly owners: readonly PortOwner[];
  /** "ss", "proc", or null when neither could be read. */
  readonly source: "ss" | "proc" | null;
}

/**
 * The holders of UDP `port` read from /proc alone: the port's socket inodes in /proc/net/udp and
 * udp6 (this network namespace), then every process with an fd on one of them.
 */
export function findUdpPortOwnersInProc(port: number): PortOwners {
  const sockets = [
    ...parseProcNetUdp(readProcText("/proc/net/udp") ?? "", port),
    ...parseProcNetUdp(readProcText("/proc/net/udp6") ?? "", port),
  ];
  if (sockets.length === 0) return { owners: [], source: null };
  const byInode = new Map(sockets.map((s) => [s.inode, s.localAddress]));
  const owners: PortOwner[] = [];
  for (const pid of listProcessIds()) {
    const fds = listProcDirectory(`/proc/${pid}/fd`);
    const found = new Set<string>();
    for (const fd of fds) {
      const link = readProcLink(`/proc/${pid}/fd/${fd}`);
      const inode = link === null ? null : socketInodeOfLink(link);
      const address = inode === null ? undefined : byInode.get(inode);
      if (address === undefined || found.has(address)) continue;
      found.add(address);
      const name = readProcText(`/proc/${pid}/comm`)?.replace(/\n$/, "") ?? "?";
      owners.push({ pid, name, localAddress: address });
    }
  }
  return { owners, source: "proc" };
}

/**
 * The processes holding UDP `port` in this network namespace. Asks `ss -Hulpn 'sport = :PORT'`
 * first; without ss (or when it fails) reads /proc directly.
 *
 * @example
 * ```ts
 * (await findUdpPortOwners(123)).owners; // [{ pid: 812, name: "chronyd", localAddress: "0.0.0.0:123" }]
 * ```
 */
export async function findUdpPortOwners(port: number): Promise<PortOwners> {
  const ss = await runProgram(["ss", "-Hulpn", `sport = :${port}`]);
  if (ss.kind === "ran" && ss.code === 0) {
    const owners = parseSsUdpOwners(ss.stdout, port);
    if (owners.length > 0 || ss.stdout.trim() === "") return { owners, source: "ss" };
  }
  return findUdpPortOwnersInProc(port);
}
