// Worker entry of one responder thread: receives its sockets and shared buffers, then runs the blocking loop.
import { handleRequest, type ServerContext } from "../core/server/handle_request.ts";
import { compileRestrict } from "../core/server/restrict.ts";
import { createRateTable } from "../core/server/rate_limit.ts";
import { createCounters } from "../core/server/counters.ts";
import type { RateLimitPolicy, RestrictRule, SystemSnapshot } from "../core/server/types.ts";
import { loadLater } from "./load_later.ts";
import { type ControlDatagram, type LoopSocket, runResponderLoop } from "./udp_fast_loop.ts";

/** The one message the daemon sends a responder worker. */
export interface WorkerStart {
  readonly kind: "start";
  readonly sockets: readonly LoopSocket[];
  /** The first worker's: the other workers' sockets, served until they run (udp_fast_loop.ts). */
  readonly interimSockets?: readonly LoopSocket[];
  readonly snapshotBuffer: SharedArrayBuffer;
  /** Restrict rules and rate limits republished on a reload (policy_buffer.ts). */
  readonly policyBuffer: SharedArrayBuffer;
  readonly initialSnapshot: SystemSnapshot;
  readonly countersBuffer: SharedArrayBuffer;
  readonly ioCountersBuffer: SharedArrayBuffer;
  readonly controlBuffer: SharedArrayBuffer;
  readonly restrict: readonly RestrictRule[];
  readonly rateLimit: RateLimitPolicy;
  /** Zero-filled, rateTableByteLength(rateLimit) bytes: the client table, read by the daemon too. */
  readonly rateTableBuffer: SharedArrayBuffer;
  /** Seed of the rate table's hash (random per worker, against hash flooding). */
  readonly hashSeed: number;
  readonly batchSize: number;
  readonly flushReplies: number;
  readonly pollTimeoutMs: number;
  /** Serve NTS with the cookie keys in this buffer. */
  readonly nts?: { readonly keyBuffer: SharedArrayBuffer };
}

/** What a responder worker tells the daemon. */
export type WorkerReport =
  | { readonly kind: "running" }
  | ControlDatagram
  | { readonly kind: "stopped" }
  | { readonly kind: "failed"; readonly message: string };

/**
 * The worker's global scope as this file uses it (typed here: a `/// <reference lib>` directive
 * would change the globals of every module, which JSR refuses).
 */
const scope = globalThis as unknown as {
  postMessage(message: WorkerReport): void;
  onmessage: ((event: MessageEvent<WorkerStart>) => void) | null;
};

function report(message: WorkerReport): void {
  scope.postMessage(message);
}

scope.onmessage = async (event: MessageEvent<WorkerStart>) => {
  const start = event.data;
  if (start.kind !== "start") return;
  try {
    // The NTS modules (and OpenSSL) load only when NTS is on.
    const nts = start.nts === undefined ? undefined : {
      keyBuffer: start.nts.keyBuffer,
      createResponder: (await loadLater<typeof import("./nts_responder.ts")>(
        new URL("./nts_responder.ts", import.meta.url),
      )).createNtsResponder,
    };
    const context: ServerContext = {
      system: start.initialSnapshot,
      restrict: compileRestrict(start.restrict),
      rateTable: createRateTable(start.rateLimit, {
        hashSeed: start.hashSeed,
        buffer: start.rateTableBuffer,
      }),
      counters: createCounters(start.countersBuffer),
    };
    report({ kind: "running" });
    runResponderLoop({
      sockets: start.sockets,
      ...(start.interimSockets === undefined ? {} : { interimSockets: start.interimSockets }),
      handle: handleRequest,
      context,
      snapshotBuffer: start.snapshotBuffer,
      policyBuffer: start.policyBuffer,
      initialSnapshot: start.initialSnapshot,
      ioCounters: new Float64Array(start.ioCountersBuffer),
      controlBuffer: start.controlBuffer,
      batchSize: start.batchSize,
      flushReplies: start.flushReplies,
      pollTimeoutMs: start.pollTimeoutMs,
      forwardControl: report,
      ...(nts === undefined ? {} : { nts }),
    });
    report({ kind: "stopped" });
  } catch (error) {
    report({
      kind: "failed",
      message: error instanceof Error ? error.stack ?? error.message : String(error),
    });
  }
};
