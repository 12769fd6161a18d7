// A read-only statsdir, log file, drift file or NTS key file (what systemd's ProtectSystem=strict makes of a path outside the unit's directories): reported with the way out, serving goes on.
import { waitFor } from "../support/wait_for.ts";
import assert from "node:assert/strict";
import { ntpServeArgv } from "../support/ntp_server_process.ts";
import { confinedArgv, startDaemon } from "../support/processes.ts";
import { freeUdpPort } from "../support/ports.ts";
import { startFakeNtpServer } from "../support/fake_ntp_server.ts";
import { udpAnswers } from "../support/udp_probe.ts";

/** sh script: bind-mount $1 onto itself read-only (in this mount namespace only), then run the rest. */
const readOnlyThenRun =
  'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"';

/** `argv` in a private mount namespace where `dir` is read-only. */
function inReadOnlyNamespace(dir: string, argv: readonly string[]): string[] {
  return [
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "sh",
    "-c",
    readOnlyThenRun,
    "sh",
    dir,
    ...argv,
  ];
}

/** The end of the message for a write in `dir` (not one the shipped unit may write). */
const hint = (dir: string) =>
  `the file system is read-only here: if this runs under the systemd unit ` +
  `(ProtectSystem=strict), only /var/lib/ntp and /var/log/ntp are writable to it; for ${dir}: ` +
  `use a path under /var/lib/ntp or /var/log/ntp (the unit's dynamic user can own no other ` +
  `directory)`;

/**
 * A directory outside the shipped unit's writable ones (/tmp is writable to it: PrivateTmp),
 * under /run, which root may write.
 */
const scratchDir = () => Deno.makeTempDir({ dir: "/run", prefix: "ntpt-read-only-" });

Deno.test({
  name:
    "a read-only statsdir and log file are reported with the unit's writable directories and ReadWritePaths=; serving goes on",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using upstream = await startFakeNtpServer({ behaviour: "ok" });
    const dir = await scratchDir();
    const port = await freeUdpPort("127.0.0.1");
    const { argv, dir: configDir } = await ntpServeArgv({
      config: [
        `statsdir ${dir}/stats`,
        "statistics loopstats",
        `logfile ${dir}/ntp.log`,
        `server 127.0.0.1 port ${upstream.port} iburst minpoll 3 maxpoll 3`,
        "",
      ].join("\n"),
      listen: [`127.0.0.1:${port}`],
      clock: "soft",
    });
    await Deno.mkdir(`${dir}/stats`);
    try {
      const daemon = await startDaemon(inReadOnlyNamespace(dir, argv), {
        env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
        ready: { stderrPattern: /serving on/i, timeoutMs: 30_000 },
      });
      try {
        await waitFor(
          "the statistics write failure",
          () => /cannot write .*loopstats/.test(daemon.stderr),
        );
        assert.ok(
          daemon.stderr.includes(`cannot write the log file: `) &&
            daemon.stderr.includes(hint(dir)),
          daemon.stderr,
        );
        assert.ok(daemon.stderr.includes(hint(`${dir}/stats`)), daemon.stderr);
        assert.ok(await udpAnswers({ host: "127.0.0.1", port }, { waitMs: 500 }));
      } finally {
        const exit = await daemon.stop({ graceMs: 5000 });
        assert.equal(exit.code, 0, daemon.describe());
      }
      // Outside the namespace the directory was writable all along: nothing went in.
      assert.deepEqual([...Deno.readDirSync(`${dir}/stats`)], []);
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(configDir, { recursive: true });
    }
  },
});

Deno.test("a read-only drift file and NTS key file directory: the write failures say how to make them writable", async () => {
  const dir = await scratchDir();
  const script = decodeURIComponent(
    new URL("../support/read_only_writes.ts", import.meta.url).pathname,
  );
  try {
    // Without CAP_SYS_TIME from the outermost process on, as every process the tests start.
    const argv = confinedArgv(
      inReadOnlyNamespace(dir, [
        Deno.execPath(),
        "run",
        "--allow-read",
        "--allow-write",
        script,
        dir,
      ]),
    );
    const output = await new Deno.Command(argv[0]!, {
      args: argv.slice(1),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    const result = JSON.parse(new TextDecoder().decode(output.stdout)) as {
      drift: string;
      keyFile: string;
    };
    assert.match(
      result.drift,
      /^Cannot write drift file .*ntp\.drift \(create of .*Read-only file system/,
    );
    assert.ok(result.drift.endsWith(hint(dir)), result.drift);
    assert.match(result.keyFile, /Read-only file system/);
    assert.ok(result.keyFile.endsWith(hint(dir)), result.keyFile);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
