// `ntp status`: snapshot tests of its report (synchronised, unsynchronised, no associations, unreachable), flags, exit codes and --watch.
import assert from "node:assert/strict";
import {
  collectStatus,
  parseStatusArgs,
  renderStatusJson,
  renderStatusText,
  WATCH_HISTORY_SAMPLES,
  watchHistoryLines,
} from "../../src/cli/status_command.ts";
import { UsageError } from "../../src/cli/errors.ts";
import { runNtpCli } from "../support/control_clients.ts";
import { freeUdpPort } from "../support/ports.ts";
import { delay } from "../support/processes.ts";
import { fakeControlView } from "../support/fake_control_views.ts";
import { FIXED_NOW_UNIX_SECONDS, startInProcessControlServer } from "./_control_server.ts";

const snapshotDir = new URL("../testdata/status/", import.meta.url);
const update = Deno.env.get("UPDATE_SNAPSHOTS") === "1";

/** Compares `actual` with tests/testdata/status/NAME (rewritten when UPDATE_SNAPSHOTS=1). */
async function assertSnapshot(name: string, actual: string): Promise<void> {
  const file = new URL(name, snapshotDir);
  if (update) {
    await Deno.writeTextFile(file, actual);
    return;
  }
  assert.equal(
    actual,
    await Deno.readTextFile(file),
    `snapshot ${name} (UPDATE_SNAPSHOTS=1 rewrites it)`,
  );
}

async function fixedSnapshot(view: "synced" | "unsynced" | "empty") {
  await using server = await startInProcessControlServer(view);
  const snapshot = await collectStatus({ host: "127.0.0.1", port: server.port }, {
    timeoutSeconds: 2,
  });
  // "when" is measured against the reading's time: pin it to the fake view's clock.
  return { ...snapshot, server: "127.0.0.1:123", takenAtUnixSeconds: FIXED_NOW_UNIX_SECONDS + 0.5 };
}

Deno.test("ntp status prints the billboard, ntpstat lines and traffic of a synchronised server (snapshot)", async () => {
  const snapshot = await fixedSnapshot("synced");
  const text = renderStatusText(snapshot);
  await assertSnapshot("synced.txt", text);
  assert.match(text, /^\*66\.220\.9\.122 /m);
  assert.match(text, /^synchronised to NTP server \(66\.220\.9\.122\) at stratum 2 $/m);
  await assertSnapshot("synced.json", JSON.stringify(renderStatusJson(snapshot), null, 2) + "\n");
});

Deno.test("ntp status prints an unsynchronised server's report (snapshot)", async () => {
  const text = renderStatusText(await fixedSnapshot("unsynced"));
  await assertSnapshot("unsynced.txt", text);
  assert.match(text, /^unsynchronised$/m);
});

Deno.test("ntp status prints 'No association IDs returned' for a server without associations (snapshot)", async () => {
  const text = renderStatusText(await fixedSnapshot("empty"));
  await assertSnapshot("empty.txt", text);
  assert.match(text, /^synchronised to unspecified at stratum 10 $/m);
});

Deno.test("ntp status exits 2 and says so when no daemon answers (snapshot)", async () => {
  const port = await freeUdpPort();
  const result = await runNtpCli(["status", "--server", `127.0.0.1:${port}`, "--timeout", "0.3"]);
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stdout, "");
  await assertSnapshot("unreachable.txt", result.stderr.replaceAll(String(port), "PORT"));
  const json = await runNtpCli([
    "status",
    "--server",
    `127.0.0.1:${port}`,
    "--timeout",
    "0.3",
    "--json",
  ]);
  assert.equal(json.code, 2);
  assert.deepEqual(
    { ...JSON.parse(json.stdout), error: "..." },
    { server: `127.0.0.1:${port}`, synchronised: false, exitCode: 2, error: "..." },
  );
});

Deno.test("ntp status exits 0 for a synchronised and 1 for an unsynchronised daemon", async () => {
  for (const [view, code] of [["synced", 0], ["unsynced", 1], ["empty", 0]] as const) {
    await using server = await startInProcessControlServer(view);
    const result = await runNtpCli(["status", "--server", `127.0.0.1:${server.port}`]);
    assert.equal(result.code, code, `${view}\n${result.stdout}${result.stderr}`);
    assert.match(
      result.stdout,
      /^traffic: received 1234567, served 1230001, dropped 4338, KoD sent 17,/m,
    );
  }
});

Deno.test("ntp status --watch redraws until SIGINT, without escape codes when stdout is not a terminal", async () => {
  await using server = await startInProcessControlServer("synced");
  const flags = ["run", "-A", new URL("../support/run_cli_command.ts", import.meta.url).pathname];
  const child = new Deno.Command(Deno.execPath(), {
    args: [...flags, "status", "--server", `127.0.0.1:${server.port}`, "--watch", "0.3"],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  await delay(2500);
  child.kill("SIGINT");
  const output = await child.output();
  const stdout = new TextDecoder().decode(output.stdout);
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const reports = stdout.split(/^ntp status 127\.0\.0\.1:\d+, every 0\.3 s, /m).length - 1;
  assert.ok(reports >= 3, `only ${reports} reports:\n${stdout}`);
  assert.ok(!stdout.includes("\x1b["), "no ANSI codes in a pipe");
});

Deno.test("ntp status --watch clears the screen and homes the cursor when stdout is a terminal", async () => {
  await using server = await startInProcessControlServer("synced");
  const runner = new URL("../support/run_cli_command.ts", import.meta.url).pathname;
  const inner = [
    "timeout -s INT 2",
    Deno.execPath(),
    "run -A",
    runner,
    `status --server 127.0.0.1:${server.port} --watch 0.5`,
  ].join(" ");
  // script(1) gives the command a pseudo-terminal; timeout sends it SIGINT after 2 s.
  const output = await new Deno.Command("script", {
    args: ["-q", "-e", "-c", inner, "/dev/null"],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  // timeout(1) exits 124 when it had to send the signal; the command itself stops cleanly.
  assert.ok([0, 124].includes(output.code), stdout + new TextDecoder().decode(output.stderr));
  assert.doesNotMatch(stdout, /error|Uncaught/i);
  const redraws = stdout.split("\x1b[H\x1b[2J").length - 1;
  assert.ok(redraws >= 3, `${redraws} redraws:\n${JSON.stringify(stdout)}`);
  assert.match(stdout, /^\*66\.220\.9\.122 /m);
});

Deno.test("parseStatusArgs() reads --server, --json, --watch with and without seconds, --timeout", () => {
  assert.deepEqual(parseStatusArgs([]), {
    host: "localhost",
    port: 123,
    json: false,
    watchSeconds: null,
    timeoutSeconds: 1,
  });
  assert.deepEqual(
    parseStatusArgs(["--server", "[::1]:4123", "--json", "--watch", "--timeout=0.5"]),
    {
      host: "::1",
      port: 4123,
      json: true,
      watchSeconds: 2,
      timeoutSeconds: 0.5,
    },
  );
  assert.equal(parseStatusArgs(["--watch", "5", "--json"]).watchSeconds, 5);
  assert.equal(parseStatusArgs(["--watch=0.5"]).watchSeconds, 0.5);
  assert.equal(parseStatusArgs(["--server=192.0.2.1"]).host, "192.0.2.1");
  for (
    const bad of [["--server"], ["--bogus"], ["--server", "a b"], ["--timeout", "-1"], [
      "--watch=x",
    ], ["extra"]]
  ) {
    assert.throws(() => parseStatusArgs(bad), UsageError, bad.join(" "));
  }
});

Deno.test("ntp status exits 2 with a usage message on bad flags", async () => {
  const result = await runNtpCli(["status", "--bogus"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown flag '--bogus'/);
});

Deno.test("ntp status adds a leap block: the leap second announced (LI in the status word) and the leap-seconds file's TAI-UTC and expiry", async () => {
  const snapshot = await fixedSnapshot("synced");
  const withLeap = {
    ...snapshot,
    systemStatus: (snapshot.systemStatus & 0x3fff) | (1 << 14),
    systemVariables: [
      ...snapshot.systemVariables,
      { name: "tai", value: "37" },
      { name: "leapsec", value: "201701010000" },
      { name: "expire", value: "202606280000" },
    ],
  };
  const text = renderStatusText({ ...withLeap, takenAtUnixSeconds: Date.UTC(2026, 0, 1) / 1000 });
  const blocks = text.split("\n\n");
  assert.equal(
    blocks[2],
    "leap second announced: one inserted at the end of this UTC day\n" +
      "leap-seconds file: TAI-UTC 37 s, valid until 2026-06-28",
    "its own block, after ntpstat's (which stays as ntpstat prints it)",
  );
  const later = renderStatusText({ ...withLeap, takenAtUnixSeconds: Date.UTC(2026, 11, 6) / 1000 });
  assert.match(later, /^leap-seconds file: TAI-UTC 37 s, EXPIRED on 2026-06-28$/m);
  assert.doesNotMatch(renderStatusText(snapshot), /leap/, "nothing without LI or a file");
});

Deno.test("ntp status --watch adds offset and frequency sparklines of the readings so far, the last 60 kept", async () => {
  // A daemon whose offset and frequency move: every mode 6 request sees the next values.
  const base = fakeControlView("synced", { nowUnixSeconds: FIXED_NOW_UNIX_SECONDS });
  let requests = 0;
  await using server = await startInProcessControlServer("synced", {
    view: () => {
      requests++;
      return {
        ...base,
        system: {
          ...base.system,
          offsetSeconds: 20e-6 * Math.sin(requests / 5),
          frequencyPpm: -12 + (requests % 40) * 0.01,
        },
      };
    },
  });
  const runner = new URL("../support/run_cli_command.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      runner,
      "status",
      "--server",
      `127.0.0.1:${server.port}`,
      "--watch",
      "0.02",
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const heading = /^ntp status 127\.0\.0\.1:\d+, every 0\.02 s, /m;
  let stdout = "";
  const decoder = new TextDecoder();
  const deadline = Date.now() + 60_000;
  const reader = child.stdout.getReader();
  // Read until more reports than the history keeps have come (or the deadline passed).
  while (stdout.split(heading).length - 1 < WATCH_HISTORY_SAMPLES + 5 && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    stdout += decoder.decode(value, { stream: true });
  }
  child.kill("SIGINT");
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    stdout += decoder.decode(value, { stream: true });
  }
  const status = await child.status;
  const stderr = await new Response(child.stderr).text();
  assert.equal(status.code, 0, stderr);
  const reports = stdout.split(heading).slice(1).filter((report) => report.includes("traffic:"));
  assert.ok(reports.length >= WATCH_HISTORY_SAMPLES + 5, `only ${reports.length} reports`);
  // A reading that failed under load is a blank in the line (and a report without traffic:).
  const offsetLine = /^offset {5}(.+?) (-?\d+\.\d) µs \.\. (-?\d+\.\d) µs \(last (\d+) samples\)$/m;
  const frequencyLine =
    /^frequency {2}(.+?) -1\d\.\d{3} ppm \.\. -1\d\.\d{3} ppm \(last (\d+) samples\)$/m;
  const sparks: string[] = [];
  let previous = 0;
  reports.forEach((report, index) => {
    const offset = offsetLine.exec(report);
    const frequency = frequencyLine.exec(report);
    assert.ok(offset !== null && frequency !== null, `report ${index}:\n${report}`);
    // One more sample per refresh (two if a failed one came between), up to the history's
    // length; one character per sample.
    const samples = Number(offset[4]);
    assert.ok(
      samples === WATCH_HISTORY_SAMPLES || (samples > previous && samples <= previous + 2),
      `report ${index}: ${samples} samples after ${previous}`,
    );
    previous = samples;
    assert.equal(Number(frequency[2]), samples, `report ${index}`);
    assert.equal([...offset[1]!].length, samples);
    assert.equal([...frequency[1]!].length, samples);
    assert.match(offset[1]!, /^[▁▂▃▄▅▆▇█ ]+$/);
    assert.ok(Number(offset[2]) <= Number(offset[3]));
    assert.ok(Math.abs(Number(offset[2])) <= 20 && Math.abs(Number(offset[3])) <= 20);
    sparks.push(offset[1]!);
  });
  assert.equal(previous, WATCH_HISTORY_SAMPLES, "the history stops at its length");
  // The line moves: the full-width sparklines are not all the same.
  const full = sparks.slice(WATCH_HISTORY_SAMPLES - 1);
  assert.ok(new Set(full).size > 1, `the sparkline never changed: ${full[0]}`);
});

Deno.test("watchHistoryLines() draws the readings as sparklines with their range, blank where a reading failed", () => {
  assert.deepEqual(watchHistoryLines([], []), []);
  assert.deepEqual(watchHistoryLines([Number.NaN], [Number.NaN]), [], "nothing to show yet");
  assert.deepEqual(
    watchHistoryLines([-12.3e-6, 0, Number.NaN, 45.6e-6], [-12.5, -12.4, Number.NaN, -12.3]),
    [
      "offset     ▁▂ █ -12.3 µs .. 45.6 µs (last 4 samples)",
      "frequency  ▁▅ █ -12.500 ppm .. -12.300 ppm (last 4 samples)",
    ],
  );
  assert.match(watchHistoryLines([0.0021, -0.0004], [1])[0]!, / -0\.400 ms \.\. 2\.100 ms /);
  assert.match(watchHistoryLines([1.5, -0.25], [1])[0]!, / -0\.250000 s \.\. 1\.500000 s /);
});
