// Measures handleRequest per call on the paths the responder workers take most.
import { createCounters } from "../../src/core/server/counters.ts";
import {
  handleRequest,
  type InboundDatagram,
  type ServerContext,
} from "../../src/core/server/handle_request.ts";
import { createRateTable, defaultRateLimitPolicy } from "../../src/core/server/rate_limit.ts";
import { compileRestrict } from "../../src/core/server/restrict.ts";
import type { RestrictRule, SystemSnapshot } from "../../src/core/server/types.ts";

const system: SystemSnapshot = {
  leap: 0,
  stratum: 3,
  precisionLog2: -24,
  referenceId: 0x0a7b0001,
  referenceTime: { seconds: 0xeeb527d1, fraction: 0x86e0d926 },
  rootDelaySeconds: 3 / 65536,
  rootDispersionSeconds: 80 / 65536,
};

/** The seed ntp.conf's rules: kod limited nomodify notrap nopeer noquery by default, localhost free. */
const any4 = new Uint8Array(4);
const any6 = new Uint8Array(16);
const seedFlags = ["kod", "limited", "nomodify", "notrap", "nopeer", "noquery"] as const;
const rules: RestrictRule[] = [
  { family: 4, network: any4, mask: any4, flags: seedFlags },
  { family: 6, network: any6, mask: any6, flags: seedFlags },
  {
    family: 4,
    network: new Uint8Array([127, 0, 0, 1]),
    mask: new Uint8Array([255, 255, 255, 255]),
    flags: [],
  },
];

function context(): ServerContext {
  return {
    system,
    restrict: compileRestrict(rules),
    rateTable: createRateTable(defaultRateLimitPolicy, { hashSeed: 1 }),
    counters: createCounters(),
  };
}

const request = new Uint8Array(48);
request[0] = 0x23;
request[2] = 6;
request.set([0x51, 0xa7, 0x7f, 0xdd, 0xcd, 0xba, 0x9c, 0xda], 40);
const receiveTime = { seconds: 0xeeb527e0, fraction: 0xc3c88bfe };
const out = new Uint8Array(48);

// Many distinct clients, as a public server sees them.
const CLIENTS = 50_000;
const clients = Array.from({ length: CLIENTS }, (_, i) => ({
  family: 4 as const,
  bytes: new Uint8Array([10, (i >> 16) & 255, (i >> 8) & 255, i & 255]),
  port: 40000 + (i % 20000),
}));

/** One reusable record, as the I/O loop can keep: fields are reassigned per datagram. */
const scratch: { -readonly [K in keyof InboundDatagram]: InboundDatagram[K] } = {
  data: request,
  client: clients[0]!,
  receiveTime,
  monotonicSeconds: 0,
};

function roundRobin(secondsPerCall: number): () => void {
  const ctx = context();
  let next = 0;
  let nowSeconds = 0;
  return () => {
    scratch.client = clients[next]!;
    next = next + 1 === CLIENTS ? 0 : next + 1;
    nowSeconds += secondsPerCall;
    scratch.monotonicSeconds = nowSeconds;
    handleRequest(scratch, ctx, out);
  };
}

Deno.bench(
  "handleRequest: mode 3, 50k clients polling every 64 s, seed restrict (kod limited): all served",
  roundRobin(64 / CLIENTS),
);

Deno.bench(
  "handleRequest: mode 3, 50k clients each every 0.25 s (200k pkt/s): rate-limited, drop/KoD path",
  roundRobin(0.25 / CLIENTS),
);

const localhost = { family: 4 as const, bytes: new Uint8Array([127, 0, 0, 1]), port: 40000 };
const localDatagram: InboundDatagram = {
  data: request,
  client: localhost,
  receiveTime,
  monotonicSeconds: 0,
};
const unlimitedContext = context();
Deno.bench(
  "handleRequest: mode 3 from an unrestricted client (recorded for mrulist, no rate limit)",
  () => {
    handleRequest(localDatagram, unlimitedContext, out);
  },
);

const mode7 = new Uint8Array([0x17, 0x00, 0x03, 0x2a]);
const mode7Datagram: InboundDatagram = {
  data: mode7,
  client: clients[0]!,
  receiveTime,
  monotonicSeconds: 0,
};
const dropContext = context();
Deno.bench("handleRequest: mode 7 (dropped)", () => {
  handleRequest(mode7Datagram, dropContext, out);
});
