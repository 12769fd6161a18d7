// A client sending NTP requests at a steady rate and counting the unanswered ones: to prove that a reload or a restart loses no request.
import dgram from "node:dgram";

/** What a steady client saw. */
export interface SteadyClientResult {
  readonly sent: number;
  readonly answered: number;
  /** Requests never answered (after a 1 s grace at the end). */
  readonly lost: number;
  /** The longest time between two replies, ms (how long the server did not answer). */
  readonly longestSilenceMs: number;
  /** The sequence numbers of the lost requests (at most 20), for assertion messages. */
  readonly lostSequences: readonly number[];
}

/** A running steady client. */
export interface SteadyClient {
  /** Replies received so far. */
  readonly answered: number;
  /** Stops sending, waits 1 s for late replies, closes the socket. */
  stop(): Promise<SteadyClientResult>;
}

/**
 * Sends `ratePerSecond` NTPv4 client requests to `host`:`port` (every 10 ms a batch), each with
 * its sequence number in the transmit timestamp, and matches the replies' origin timestamps.
 *
 * @example
 * ```ts
 * const client = await startSteadyClient({ host: "127.0.0.1", port: 12300, ratePerSecond: 1000 });
 * const result = await client.stop();
 * result.lost; // 0 when every request was answered
 * ```
 */
export async function startSteadyClient(options: {
  readonly host: string;
  readonly port: number;
  readonly ratePerSecond: number;
}): Promise<SteadyClient> {
  const family = options.host.includes(":") ? "udp6" : "udp4";
  // Room for the replies to a backlog the server answers at once (after a restart).
  const socket = dgram.createSocket({ type: family, recvBufferSize: 4 << 20 });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, family === "udp6" ? "::1" : "127.0.0.1", () => resolve());
  });
  const answeredSet = new Set<number>();
  let sent = 0;
  let lastReplyMs = performance.now();
  let longestSilenceMs = 0;
  socket.on("message", (message: Uint8Array) => {
    if (message.length < 48) return;
    const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
    if (view.getUint32(24) !== 0x5eadc1e7) return; // origin: not one of ours
    answeredSet.add(view.getUint32(28));
    const now = performance.now();
    longestSilenceMs = Math.max(longestSilenceMs, now - lastReplyMs);
    lastReplyMs = now;
  });
  const perTick = Math.max(1, Math.round(options.ratePerSecond / 100));
  const startedMs = performance.now();
  const timer = setInterval(() => {
    // Catch up after a late timer, so the rate holds on a loaded machine.
    const due = Math.floor(((performance.now() - startedMs) / 10 + 1) * perTick);
    while (sent < due) {
      const request = new Uint8Array(48);
      request[0] = 0x23;
      const view = new DataView(request.buffer);
      view.setUint32(40, 0x5eadc1e7);
      view.setUint32(44, sent);
      sent++;
      socket.send(request, options.port, options.host);
    }
  }, 10);
  return {
    get answered() {
      return answeredSet.size;
    },
    stop: async () => {
      clearInterval(timer);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      socket.close();
      const lostSequences: number[] = [];
      for (let i = 0; i < sent && lostSequences.length < 20; i++) {
        if (!answeredSet.has(i)) lostSequences.push(i);
      }
      return {
        sent,
        answered: answeredSet.size,
        lost: sent - answeredSet.size,
        longestSilenceMs: Math.round(longestSilenceMs),
        lostSequences,
      };
    },
  };
}
