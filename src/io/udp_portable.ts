// The portable responders: node:dgram on the main thread, for hosts where FFI is not allowed (~30k req/s).
//
// Differences from the fast back end: one thread; the receive timestamp is a clock read when
// the event loop hands over the datagram (not the kernel's), with clock_gettime when FFI is
// permitted and Date.now() (1 ms steps) otherwise; replies from a wildcard address leave from
// whatever source address the kernel's routing picks (node:dgram has no pktinfo).
import dgram from "node:dgram";
import { Buffer } from "node:buffer";
import type { ClientAddress } from "../core/server/types.ts";
import { handleRequest, type ServerContext } from "../core/server/handle_request.ts";
import { compileRestrict } from "../core/server/restrict.ts";
import { createRateTable, retuneRateTable } from "../core/server/rate_limit.ts";
import { recentClients } from "../core/control/recent_clients.ts";
import { countersToRecord, createCounters } from "../core/server/counters.ts";
import { ntpFromUnix, writeUnixAsNtp } from "../core/time/ntp_timestamp.ts";
import type { Responders, RespondersOptions } from "./responders_types.ts";
import { chooseRealtimeReader, measurePrecisionLog2 } from "./clock_realtime.ts";
import { BindError } from "./bind_error.ts";
import { formatEndpoint, formatIp, parseIp } from "./sockaddr.ts";
import {
  clientTableCounters,
  correctedNanoseconds,
  correctionOf,
  IoCounter,
  ioCounterNames,
  smearedNanoseconds,
  unsynchronisedSnapshot,
  withCorrectionEpoch,
  withoutLeapAnnouncement,
} from "./responder_common.ts";

function bindSocket(
  endpoint: { hostname: string; port: number; family: 4 | 6 },
): Promise<dgram.Socket> {
  const address = parseIp(endpoint.hostname, endpoint.family);
  const text = formatEndpoint(address, endpoint.port);
  const socket = dgram.createSocket({
    type: endpoint.family === 4 ? "udp4" : "udp6",
    ipv6Only: endpoint.family === 6,
  });
  return new Promise((resolve, reject) => {
    const onError = (error: Error & { code?: string }) => {
      socket.close();
      const code = error.code ?? "UNKNOWN";
      reject(new BindError(text, { code, detail: error.message, port: endpoint.port }));
    };
    socket.once("error", onError);
    socket.bind({ port: endpoint.port, address: formatIp(address), exclusive: true }, () => {
      socket.off("error", onError);
      resolve(socket);
    });
  });
}

/** Parses node's textual remote address into a ClientAddress. */
function clientFromRemote(remote: dgram.RemoteInfo): ClientAddress {
  if (remote.family === "IPv4") {
    const parts = remote.address.split(".");
    return {
      family: 4,
      bytes: Uint8Array.of(Number(parts[0]), Number(parts[1]), Number(parts[2]), Number(parts[3])),
      port: remote.port,
    };
  }
  const percent = remote.address.indexOf("%");
  const text = percent < 0 ? remote.address : remote.address.slice(0, percent);
  return { ...parseIp(text, 6), port: remote.port };
}

/**
 * Starts the portable responders on the main thread (`options.workers` is ignored). Rejects with
 * a BindError naming the address and the fix when an address cannot be bound.
 *
 * @example
 * ```ts
 * import { defaultRateLimitPolicy } from "../core/server/rate_limit.ts";
 * const responders = await startPortableResponders({
 *   listen: [{ hostname: "127.0.0.1", port: 12300, family: 4 }], workers: 1,
 *   restrict: [], rateLimit: defaultRateLimitPolicy,
 * });
 * ```
 */
export async function startPortableResponders(options: RespondersOptions): Promise<Responders> {
  const read = chooseRealtimeReader();
  const precisionLog2 = measurePrecisionLog2({ read });
  const nowUnixSeconds = () => {
    const now = read();
    return now.unixSeconds + now.nanoseconds * 1e-9;
  };
  const sockets: dgram.Socket[] = [];
  try {
    for (const endpoint of options.listen) sockets.push(await bindSocket(endpoint));
  } catch (error) {
    for (const socket of sockets) socket.close();
    throw error;
  }
  const first = withCorrectionEpoch(
    options.initialSnapshot ?? unsynchronisedSnapshot(precisionLog2),
    nowUnixSeconds,
  );
  let correction = correctionOf(first);
  const context: ServerContext = {
    system: first,
    restrict: compileRestrict(options.restrict),
    rateTable: createRateTable(options.rateLimit, {
      hashSeed: crypto.getRandomValues(new Uint32Array(1))[0]!,
    }),
    counters: createCounters(),
  };
  const ioCounters = new Float64Array(ioCounterNames.length);
  const routes = new WeakMap<ClientAddress, dgram.Socket>();
  const controlCallbacks: ((data: Uint8Array, client: ClientAddress) => void)[] = [];
  const out = new Uint8Array(2048);
  const outView = new DataView(out.buffer);

  let smear = first.smear ?? null;
  /** The served nanoseconds of a kernel reading: corrected, and smeared when `smearing`. */
  const served = (reading: { unixSeconds: number; nanoseconds: number }, smearing: boolean) => {
    const corrected = correctedNanoseconds(reading.unixSeconds, reading.nanoseconds, correction);
    return smearing ? smearedNanoseconds(reading.unixSeconds, corrected, smear) : corrected;
  };

  const onMessage = (
    socket: dgram.Socket,
    smearing: boolean,
    message: Uint8Array,
    remote: dgram.RemoteInfo,
  ) => {
    const now = read();
    ioCounters[IoCounter.received]!++;
    const client = clientFromRemote(remote);
    const datagram = {
      data: message,
      client,
      receiveTime: ntpFromUnix(now.unixSeconds, served(now, smearing)),
      monotonicSeconds: performance.now() / 1000,
    };
    let verdict;
    try {
      verdict = handleRequest(datagram, context, out);
    } catch (error) {
      // A bug in the core must not take the responder down with it: drop this datagram.
      if (ioCounters[IoCounter.handlerErrors]!++ === 0) {
        console.error("ntp responder: request handler failed (reported once):", error);
      }
      return;
    }
    if (verdict.action === "reply") {
      if (!verdict.transmitWritten) {
        if (smearing) withoutLeapAnnouncement(out);
        const sent = read();
        writeUnixAsNtp(outView, 40, sent.unixSeconds, served(sent, smearing));
      }
      // node:dgram keeps a reference until the send completes: hand it a copy.
      socket.send(
        Buffer.from(out.subarray(0, verdict.length)),
        remote.port,
        remote.address,
        (error) => {
          if (error) ioCounters[IoCounter.sendErrors]!++;
          else ioCounters[IoCounter.sent]!++;
        },
      );
    } else if (verdict.action === "control") {
      ioCounters[IoCounter.controlForwarded]!++;
      routes.set(client, socket);
      for (const callback of controlCallbacks) callback(message.slice(), client);
    }
  };
  sockets.forEach((socket, index) => {
    const smearing = options.listen[index]?.smear ?? false;
    socket.on("message", (message, remote) => onMessage(socket, smearing, message, remote));
    socket.on("error", () => ioCounters[IoCounter.receiveErrors]!++);
  });

  let closing: Promise<void> | undefined;
  return {
    io: "portable",
    // node:dgram never has kernel receive stamps; that is the portable back end's documented cost.
    missingFeatures: [],
    addresses: sockets.map((socket, index) => ({
      hostname: socket.address().address,
      port: socket.address().port,
      family: options.listen[index]!.family,
    })),
    precisionLog2,
    publish: (snapshot) => {
      const complete = withCorrectionEpoch(snapshot, nowUnixSeconds);
      correction = correctionOf(complete);
      smear = complete.smear ?? null;
      context.system = complete;
    },
    updatePolicy: (policy) => {
      context.rateTable = retuneRateTable(context.rateTable, policy.rateLimit);
      context.restrict = compileRestrict(policy.restrict);
    },
    counters: () => {
      const record: Record<string, number> = countersToRecord(context.counters);
      ioCounterNames.forEach((name, index) => (record[name] = ioCounters[index]!));
      Object.assign(record, clientTableCounters([context.rateTable], performance.now() / 1000));
      return record;
    },
    recentClients: (limit) =>
      recentClients(context.rateTable, {
        limit,
        clock: { monotonicSeconds: performance.now() / 1000, unixSeconds: nowUnixSeconds() },
      }),
    onControl: (callback) => {
      controlCallbacks.push(callback);
    },
    sendControlReply: (bytes, client) => {
      const socket = routes.get(client) ??
        sockets.find((_, index) => options.listen[index]!.family === client.family);
      if (socket === undefined) {
        throw new Error(`no IPv${client.family} listen address to reply from`);
      }
      socket.send(Buffer.from(bytes), client.port, formatIp(client));
    },
    close: () => {
      closing ??= Promise.all(
        sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))),
      ).then(() => {});
      return closing;
    },
  };
}
