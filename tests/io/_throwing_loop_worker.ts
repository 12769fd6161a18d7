// Test worker: runs the real responder loop with a handler that throws on datagrams starting with 0xff; reports the socketIndex of each control datagram forwarded.
/// <reference lib="deno.worker" />
import { handleRequest } from "../../src/core/server/handle_request.ts";
import { compileRestrict } from "../../src/core/server/restrict.ts";
import { createRateTable, defaultRateLimitPolicy } from "../../src/core/server/rate_limit.ts";
import { createCounters } from "../../src/core/server/counters.ts";
import { unsynchronisedSnapshot } from "../../src/io/responder_common.ts";
import { type LoopSocket, runResponderLoop } from "../../src/io/udp_fast_loop.ts";
import { createPolicyBuffer } from "../../src/io/policy_buffer.ts";

interface Start {
  readonly sockets: readonly LoopSocket[];
  readonly interimSockets?: readonly LoopSocket[];
  readonly snapshotBuffer: SharedArrayBuffer;
  readonly ioCountersBuffer: SharedArrayBuffer;
  readonly controlBuffer: SharedArrayBuffer;
}

self.onmessage = (event: MessageEvent<Start>) => {
  const start = event.data;
  const initial = unsynchronisedSnapshot(-20);
  self.postMessage("running");
  runResponderLoop({
    sockets: start.sockets,
    ...(start.interimSockets === undefined ? {} : { interimSockets: start.interimSockets }),
    handle: (datagram, context, out) => {
      if (datagram.data[0] === 0xff) throw new Error("deliberate failure");
      return handleRequest(datagram, context, out);
    },
    context: {
      system: initial,
      restrict: compileRestrict([]),
      rateTable: createRateTable(defaultRateLimitPolicy),
      counters: createCounters(),
    },
    snapshotBuffer: start.snapshotBuffer,
    policyBuffer: createPolicyBuffer(),
    initialSnapshot: initial,
    ioCounters: new Float64Array(start.ioCountersBuffer),
    controlBuffer: start.controlBuffer,
    batchSize: 8,
    flushReplies: 8,
    pollTimeoutMs: 50,
    forwardControl: (message) => self.postMessage({ control: message.socketIndex }),
  });
  self.postMessage("stopped");
};
