// Acceptance of "Keep time" on a real network: `ntp serve --clock soft` synchronises to four chronyd upstreams, chronyd -Q and ntpsec's ntpd follow it, and it holds over when its system peer dies.
//
// Layout (nothing in the host namespace; every daemon without CAP_SYS_TIME):
//   netns "server": four `chronyd -x` (local stratum 1) on 127.0.0.1:11231..11234, and our
//     server on 127.0.0.1:123 and on the veth address, polling the four (minpoll = maxpoll = 3).
//   netns "ntpd": ntpsec's ntpd, `server <our veth address>` (ntpd has no port option, so our
//     server has to be on port 123, in a namespace of its own).
// One watcher (tests/support/ntp_watch.py) asks our server for the time every 0.2 s from before
// it starts to the end of the test: it times the synchronisation and proves that every reply
// after it carries LI=0, stratum 2, refid 127.0.0.1 and the local time within 1 ms, including
// while an upstream dies. The real clients and ntpd are checked while the dead upstream's 8
// polls elapse (about 64 s: minpoll 3 is the shortest poll the config accepts).
import { becomes } from "../support/wait_for.ts";
import assert from "node:assert/strict";
import { assertClientsAccept, runEveryClient } from "../support/clients.ts";
import { billboardRows, runNtpq } from "../support/control_clients.ts";
import { type ChronydServer, startChronydServer } from "../support/chronyd_server.ts";
import { connectNetns, createNetns } from "../support/netns.ts";
import { type NtpServer, startNtpServer } from "../support/ntp_server_process.ts";
import { startNtpsecNtpd } from "../support/ntpsec_ntpd.ts";
import { delay } from "../support/processes.ts";
import {
  firstSynchronised,
  ipv4RefidHex,
  offsetSummaryMicros,
  type ServedSample,
  servedSampleProblems,
  startServedTimeWatch,
} from "../support/served_time_watch.ts";

const upstreamPorts = [11231, 11232, 11233, 11234] as const;
const upstreamStratum = 1;
const ourStratum = upstreamStratum + 1;

const config = `# four local chronyd upstreams, polled every 8 s; no orphan mode
${
  upstreamPorts.map((port) => `server 127.0.0.1 port ${port} iburst minpoll 3 maxpoll 3`).join("\n")
}
`;

/** The port of the last "system peer is now 127.0.0.1:PORT" our server logged. */
function lastSystemPeerPort(stderr: string): number | undefined {
  const ports = [...stderr.matchAll(/system peer is now 127\.0\.0\.1:(\d+)/g)].map((m) =>
    Number(m[1])
  );
  return ports.at(-1);
}

/** The wall time (Unix seconds) of the first log line matching `pattern`, from its timestamp. */
function logTime(stderr: string, pattern: RegExp): number | undefined {
  for (const line of stderr.split("\n")) {
    if (!pattern.test(line)) continue;
    const stamp = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d+) ([+-]\d\d:\d\d)/.exec(line);
    if (stamp !== null) return Date.parse(`${stamp[1]}T${stamp[2]}${stamp[3]}`) / 1000;
  }
  return undefined;
}

function describeSamples(samples: readonly ServedSample[]): string {
  const s = offsetSummaryMicros(samples);
  return `${samples.length} samples, ${s.n} with delay < 1 ms: mean offset ${
    s.meanUs.toFixed(1)
  } us, max |offset| ${s.maxAbsUs.toFixed(1)} us`;
}

Deno.test("ntp serve --clock soft keeps time from four chronyd upstreams, is followed by chronyd -Q and ntpd, and holds over when its system peer dies", async (t) => {
  await using stack = new AsyncDisposableStack();
  const serverNs = stack.use(await createNetns());
  const ntpdNs = stack.use(await createNetns());
  const link = await connectNetns(serverNs, ntpdNs);
  const upstreams = new Map<number, ChronydServer>();
  for (const port of upstreamPorts) {
    upstreams.set(
      port,
      stack.use(
        await startChronydServer({
          port,
          bindAddresses: ["127.0.0.1"],
          netns: serverNs.name,
          localStratum: upstreamStratum,
        }),
      ),
    );
  }
  const target = { host: "127.0.0.1", port: 123, netns: serverNs.name };
  const watch = stack.use(await startServedTimeWatch(target, { intervalSeconds: 0.2 }));
  const startedWall = Date.now() / 1000;
  const server: NtpServer = stack.use(
    await startNtpServer({
      config,
      listen: ["127.0.0.1:123", `${link.ipv4A}:123`],
      netns: serverNs.name,
      clock: "soft",
    }),
  );
  const expectation = {
    stratum: ourStratum,
    refidHex: ipv4RefidHex("127.0.0.1"),
    maxAbsOffsetSeconds: 0.001,
  };
  let syncedWall = Infinity;
  const samplesSinceSync = () => watch.samples().filter((s) => s.wallSeconds >= syncedWall);

  await t.step("it serves LI=0 at stratum 2 within 10 s of its start", async () => {
    await becomes(() => firstSynchronised(watch.samples(), ourStratum) !== undefined, {
      timeoutMs: 15_000,
      intervalMs: 250,
    });
    const first = firstSynchronised(watch.samples(), ourStratum);
    assert.ok(first !== undefined, `not synchronised after 15 s\n${server.describe()}`);
    syncedWall = first.wallSeconds;
    const fromServing = logTime(server.stderr, /serving on/);
    console.log(
      `synchronised ${(syncedWall - startedWall).toFixed(2)} s after the start (${
        fromServing === undefined ? "?" : (syncedWall - fromServing).toFixed(2)
      } s after "serving on")`,
    );
    assert.ok(syncedWall - startedWall < 10, server.describe());
  });

  await t.step(
    "its replies then carry LI=0, stratum 2, refid 127.0.0.1 and the local time within 1 ms",
    async () => {
      await delay(3000);
      const samples = samplesSinceSync();
      console.log(`after synchronisation: ${describeSamples(samples)}`);
      assert.deepEqual(servedSampleProblems(samples, expectation), [], server.describe());
      assert.match(server.stderr, /synchronised at stratum 2, refid 127\.0\.0\.1/);
      assert.doesNotMatch(server.stderr, /orphan/i);
    },
  );

  // Kill the system peer's chronyd now: its 8 unanswered polls (64-72 s) elapse while the real
  // clients and ntpd check us.
  const deadPort = lastSystemPeerPort(server.stderr);
  assert.ok(deadPort !== undefined, `no system peer logged\n${server.describe()}`);
  await upstreams.get(deadPort)![Symbol.asyncDispose]();
  const killedWall = Date.now() / 1000;
  console.log(`killed the system peer's chronyd, 127.0.0.1:${deadPort}`);

  await t.step(
    "chronyd -Q and every other real client accept it at stratum 2 with an offset below 1 ms",
    async () => {
      const results = await runEveryClient(target, { retryOffsetAboveSeconds: 0.001 });
      const summary = assertClientsAccept(results, {
        maxAbsOffsetSeconds: 0.001,
        stratum: ourStratum,
        label: "netns 127.0.0.1:123",
      });
      console.log(summary.join("\n"));
      assert.match(results.get("chronyd -Q")!.raw, /System clock wrong by [-+]?\d+\.\d+ seconds/);
    },
  );

  await t.step("ntpsec's ntpd in another namespace selects it as its system peer", async () => {
    const ntpdStarted = performance.now();
    const ntpd = stack.use(await startNtpsecNtpd({ netns: ntpdNs.name, servers: [link.ipv4A] }));
    const ntpdTarget = { host: "127.0.0.1", port: 123, netns: ntpdNs.name };
    const peers = await runNtpq(ntpdTarget, ["peers"]);
    const variables = await runNtpq(ntpdTarget, ["rv 0 stratum,refid"]);
    const log =
      `${peers.stdout}${peers.stderr}\n${variables.stdout}${variables.stderr}\n${ntpd.daemon.describe()}`;
    console.log(
      `ntpd selected us after ${
        ((performance.now() - ntpdStarted) / 1000).toFixed(1)
      } s:\n${peers.stdout.trimEnd()}\n${variables.stdout.trimEnd()}`,
    );
    const ours = billboardRows(peers.stdout).filter((row) =>
      row.slice(1, 16).trim() === link.ipv4A
    );
    assert.equal(ours.length, 1, log);
    assert.equal(ours[0]![0], "*", log);
    assert.equal(ours[0]!.slice(17, 32).trim(), "127.0.0.1", log);
    assert.equal(Number(ours[0]!.slice(33, 35)), ourStratum, log);
    assert.match(variables.stdout, new RegExp(`stratum=${ourStratum + 1}\\b`), log);
    assert.match(
      variables.stdout,
      new RegExp(`refid=${link.ipv4A.replaceAll(".", "\\.")}\\b`),
      log,
    );
  });

  await t.step(
    "when the system peer's chronyd dies it stays synchronised through another one and logs the dead one unreachable",
    async () => {
      const unreachable = new RegExp(`127\\.0\\.0\\.1:${deadPort} is unreachable`);
      const logged = await becomes(() => unreachable.test(server.stderr), {
        timeoutMs: 85_000,
        intervalMs: 250,
      });
      const unreachableWall = logTime(server.stderr, unreachable);
      await delay(1000);
      const samples = samplesSinceSync();
      console.log(
        `"unreachable" logged ${
          unreachableWall === undefined ? "never" : (unreachableWall - killedWall).toFixed(1)
        } s after the kill; system peer now 127.0.0.1:${
          lastSystemPeerPort(server.stderr)
        }; since synchronisation: ${describeSamples(samples)}`,
      );
      assert.ok(logged, `no "unreachable" for ${deadPort} within 85 s\n${server.describe()}`);
      assert.match(server.stderr, new RegExp(`WRN.*${unreachable.source}`));
      const newPeer = lastSystemPeerPort(server.stderr);
      assert.ok(newPeer !== undefined && newPeer !== deadPort, server.describe());
      assert.deepEqual(servedSampleProblems(samples, expectation), [], server.describe());
      assert.ok(samples.at(-1)!.wallSeconds > unreachableWall!, "the watch stopped early");
      assert.ok(server.running, server.describe());
    },
  );
});
