// Starts ntpsec's ntpd (extracted, not installed) as a reference mode 6 server in a network namespace, never touching the clock.
import { billboardRows, ntpdPath, runNtpq } from "./control_clients.ts";
import { type Daemon, startDaemon } from "./processes.ts";

/** Options of {@link startNtpsecNtpd}. */
export interface NtpsecNtpdOptions {
  /** The namespace to run in (ntpd answers on 127.0.0.1:123 there). */
  readonly netns: string;
  /** Upstream server addresses (`server X iburst minpoll 4 maxpoll 4`). */
  readonly servers: readonly string[];
  /** Wait until the billboard shows a system peer (`*`); default true. */
  readonly waitForSystemPeer?: boolean;
}

/** ntpd running; dispose it to stop it and remove its directory. */
export interface NtpsecNtpd extends AsyncDisposable {
  readonly daemon: Daemon;
}

/**
 * Starts `ntpd -n -c CONF -l LOG` under setpriv (no CAP_SYS_TIME: ntpd writes kernel timex state
 * at start even with `disable ntp`, see NOTES.md C.3), with `disable ntp`, `disable kernel`,
 * `tos orphan 10 orphanwait 1` (so leap becomes 00) and restrict lines opening 127.0.0.1 and
 * ::1 to mode 6 (ntpsec's default is noquery). Waits until ntpq lists the upstreams, and by
 * default until one is the system peer (about 10-20 s).
 */
export async function startNtpsecNtpd(options: NtpsecNtpdOptions): Promise<NtpsecNtpd> {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-ntpd-" });
  const config = [
    "disable ntp",
    "disable kernel",
    "tos orphan 10 orphanwait 1",
    ...options.servers.map((s) => `server ${s} iburst minpoll 4 maxpoll 4`),
    "restrict 127.0.0.1",
    "restrict ::1",
  ].join("\n") + "\n";
  await Deno.writeTextFile(`${dir}/ntp.conf`, config);
  const wantPeer = options.waitForSystemPeer ?? true;
  const target = { host: "127.0.0.1", port: 123, netns: options.netns };
  try {
    const daemon = await startDaemon([
      ntpdPath,
      "-n",
      "-c",
      `${dir}/ntp.conf`,
      "-l",
      `${dir}/ntpd.log`,
    ], {
      netns: options.netns,
      ready: {
        probe: async () => {
          const rows = billboardRows(
            (await runNtpq(target, ["timeout 300", "peers"], { timeoutMs: 5000 })).stdout,
          );
          return rows.length >= options.servers.length &&
            (!wantPeer || rows.some((r) => r.startsWith("*")));
        },
        timeoutMs: 90_000,
      },
    });
    return {
      daemon,
      async [Symbol.asyncDispose]() {
        await daemon.stop();
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      },
    };
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
}
