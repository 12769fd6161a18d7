// Benchmark target: starts the responders on loopback with restrict rules and rate limiting, until SIGTERM.
//
// Usage: deno run --allow-ffi --allow-net --allow-read --allow-env --allow-sys \
//          scripts/serve_bench_target.ts [--port N] [--workers N] [--io fast|portable]
//          [--profile limited|exempt] [--receive-buffer-bytes N] [--batch-size N]
//          [--flush-replies N]
// Prints "READY <port>" on stdout when serving; on SIGTERM/SIGINT prints the counters as JSON on
// stderr and exits 0.
//
// Restrict rules (both profiles): `default kod limited nomodify notrap nopeer noquery` for IPv4
// and IPv6, so every packet walks the rule table to the most specific match. Then
// - profile "limited" (default): 127.0.0.1 and ::1 get `kod limited nomodify notrap nopeer`
//   and the rate limit policy allows a burst of 1e12 packets, so every request also goes
//   through the rate table (hash lookup, LRU, token update) without ever being limited;
// - profile "exempt": 127.0.0.1 and ::1 get `nomodify notrap nopeer` with the default policy;
//   the rate table is then not consulted for loopback (the core checks it only under `limited`).
import { parseArgs } from "node:util";
import { defaultRateLimitPolicy } from "../src/core/server/rate_limit.ts";
import type { RateLimitPolicy, RestrictFlag, RestrictRule } from "../src/core/server/types.ts";
import { refidLoopback } from "../src/core/discipline/system_state.ts";
import { startResponders } from "../src/daemon/responders.ts";
import { readRealtime } from "../src/io/clock_realtime.ts";
import { ntpFromUnix } from "../src/core/time/ntp_timestamp.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string", default: "12124" },
    workers: { type: "string", default: "1" },
    io: { type: "string", default: "fast" },
    profile: { type: "string", default: "limited" },
    // Default: the responders' own default (4 MiB requested, capped by net.core.rmem_max).
    "receive-buffer-bytes": { type: "string" },
    // Datagrams per recvmmsg/sendmmsg; default: the responders' default (64).
    "batch-size": { type: "string" },
    "flush-replies": { type: "string" },
  },
});
if (values.io !== "fast" && values.io !== "portable") throw new Error("--io: fast or portable");
if (values.profile !== "limited" && values.profile !== "exempt") {
  throw new Error("--profile: limited or exempt");
}

const defaultFlags: RestrictFlag[] = ["kod", "limited", "nomodify", "notrap", "nopeer", "noquery"];
const loopbackFlags: RestrictFlag[] = values.profile === "limited"
  ? ["kod", "limited", "nomodify", "notrap", "nopeer"]
  : ["nomodify", "notrap", "nopeer"];
const restrict: RestrictRule[] = [
  { family: 4, network: new Uint8Array(4), mask: new Uint8Array(4), flags: defaultFlags },
  { family: 6, network: new Uint8Array(16), mask: new Uint8Array(16), flags: defaultFlags },
  {
    family: 4,
    network: Uint8Array.of(127, 0, 0, 1),
    mask: new Uint8Array(4).fill(255),
    flags: loopbackFlags,
  },
  {
    family: 6,
    network: Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
    mask: new Uint8Array(16).fill(255),
    flags: loopbackFlags,
  },
];
const rateLimit: RateLimitPolicy = values.profile === "limited"
  ? { ...defaultRateLimitPolicy, burstPackets: 1e12 }
  : defaultRateLimitPolicy;

const port = Number(values.port);
const responders = await startResponders({
  io: values.io,
  listen: [{ hostname: "127.0.0.1", port, family: 4 }],
  workers: Number(values.workers),
  restrict,
  rateLimit,
  ...(values["receive-buffer-bytes"] === undefined
    ? {}
    : { receiveBufferBytes: Number(values["receive-buffer-bytes"]) }),
  ...(values["batch-size"] === undefined ? {} : { batchSize: Number(values["batch-size"]) }),
  ...(values["flush-replies"] === undefined
    ? {}
    : { flushReplies: Number(values["flush-replies"]) }),
});
const now = readRealtime();
responders.publish({
  leap: 0,
  stratum: 10,
  precisionLog2: responders.precisionLog2,
  referenceId: refidLoopback,
  referenceTime: ntpFromUnix(now.unixSeconds, now.nanoseconds),
  rootDelaySeconds: 0,
  rootDispersionSeconds: 0.001,
});
console.log(`READY ${responders.addresses[0]?.port}`);

const stop = async () => {
  const counters = responders.counters();
  await responders.close();
  console.error(JSON.stringify(counters));
  Deno.exit(0);
};
Deno.addSignalListener("SIGTERM", stop);
Deno.addSignalListener("SIGINT", stop);
