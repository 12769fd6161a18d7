// Starts a real chronyd (-x, never touching the clock) as a reference NTP server for the end-to-end tests.
import { type Daemon, startDaemon } from "./processes.ts";
import { udpAnswers } from "./udp_probe.ts";

/** Options for {@link startChronydServer}. */
export interface ChronydServerOptions {
  /** UDP port to serve on (chronyd `port`). */
  readonly port: number;
  /** Addresses to bind (at most one IPv4 and one IPv6); default 127.0.0.1 and ::1. */
  readonly bindAddresses?: readonly string[];
  /** Network namespace to run in; the host namespace when absent. */
  readonly netns?: string;
  /** `local stratum N` (default 10): serves LI=0 at that stratum with no sources. */
  readonly localStratum?: number;
  /** Extra chrony.conf lines (e.g. `ratelimit interval 1 burst 4`). */
  readonly extraConfig?: readonly string[];
}

/**
 * A chronyd reference server: `chronyd -x -d -u root -f CONF` without CAP_SYS_TIME, no command port.
 * Dispose it to stop chronyd and remove its config directory.
 */
export class ChronydServer implements AsyncDisposable {
  readonly #daemon: Daemon;
  readonly #dir: string;

  /** Takes ownership of the chronyd daemon and its directory. */
  constructor(daemon: Daemon, dir: string) {
    this.#daemon = daemon;
    this.#dir = dir;
  }

  /** chronyd's captured log, for messages. */
  describe(): string {
    return this.#daemon.describe();
  }

  /** Stops chronyd and removes its directory. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#daemon.stop();
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}

/** Starts chronyd -x serving `local stratum N` on the given port and waits until it answers. */
export async function startChronydServer(options: ChronydServerOptions): Promise<ChronydServer> {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-chronyd-" });
  const binds = options.bindAddresses ?? ["127.0.0.1", "::1"];
  const config = [
    `port ${options.port}`,
    ...binds.map((address) => `bindaddress ${address}`),
    "allow all",
    `local stratum ${options.localStratum ?? 10}`,
    "cmdport 0",
    `pidfile ${dir}/chronyd.pid`,
    ...(options.extraConfig ?? []),
  ];
  await Deno.writeTextFile(`${dir}/chrony.conf`, `${config.join("\n")}\n`);
  const first = binds[0] ?? "127.0.0.1";
  const probeTarget = {
    host: first,
    port: options.port,
    ...(options.netns === undefined ? {} : { netns: options.netns }),
  };
  try {
    const daemon = await startDaemon([
      "chronyd",
      "-x",
      "-d",
      "-u",
      "root",
      "-f",
      `${dir}/chrony.conf`,
    ], {
      ...(options.netns === undefined ? {} : { netns: options.netns }),
      ready: { probe: () => udpAnswers(probeTarget) },
    });
    return new ChronydServer(daemon, dir);
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
}

/**
 * chrony.conf lines that make a chronyd an NTS server with `certificates` on TCP `kePort`,
 * keeping its NTS keys in `dumpDir`.
 */
export function chronydNtsServerLines(
  certificates: { readonly certificateFile: string; readonly keyFile: string },
  kePort: number,
  dumpDir: string,
): string[] {
  return [
    `ntsservercert ${certificates.certificateFile}`,
    `ntsserverkey ${certificates.keyFile}`,
    `ntsport ${kePort}`,
    `ntsdumpdir ${dumpDir}`,
  ];
}
