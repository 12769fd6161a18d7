// One-shot NTP client transport: sends a mode 3 request and stamps the send and the reply on the kernel clock (the reply with its kernel receive stamp where there is one).
import { connectUdpPeer, type UdpPeer, type UdpPeerSocketOptions } from "./udp_peer.ts";
import { ntpFromUnix, type NtpTimestamp } from "../core/time/ntp_timestamp.ts";
import type { ClockReading } from "./clock_driver.ts";
import { chooseRealtimeReader } from "./clock_realtime.ts";

/** The server to ask. */
export interface QueryTarget {
  /** Host name or IP literal (no brackets). */
  readonly host: string;
  readonly port: number;
}

/** One request/reply exchange with the local wall-clock times around it. */
export interface QueryExchange {
  /** Local time just before the request was sent (T1). */
  readonly sentAt: NtpTimestamp;
  /** The reply, or null when none came within the timeout. */
  readonly reply: Uint8Array | null;
  /** Local time when the reply was received (T4), null without a reply. */
  readonly receivedAt: NtpTimestamp | null;
}

/** The host name could not be resolved. */
export class QueryResolveError extends Error {
  override name = "QueryResolveError";
}

/**
 * A UDP socket for one server (only that address and port can answer). Owns the socket: close
 * it (or `await using`) when done.
 */
export class QueryClient implements AsyncDisposable {
  /** The address the host resolved to. */
  readonly address: string;
  readonly port: number;
  readonly #socket: UdpPeer;
  /** The wall clock for a send that failed (FFI's clock_gettime, or Date.now() without FFI). */
  readonly #readClock: () => ClockReading;
  #onReply: ((bytes: Uint8Array, at: NtpTimestamp) => void) | null = null;
  /** Ends the exchange in progress as unanswered (close() calls it). */
  #cancel: (() => void) | null = null;
  #closed = false;

  /** Takes ownership of a peer socket. Use {@link openQueryClient}. */
  constructor(socket: UdpPeer, readClock: () => ClockReading = chooseRealtimeReader()) {
    this.#socket = socket;
    this.#readClock = readClock;
    this.address = socket.address;
    this.port = socket.port;
    socket.onDatagram = (datagram) => {
      this.#onReply?.(datagram.data, ntpOf(datagram.receiveKernel));
    };
  }

  /**
   * Sends `request` and waits up to `timeoutMs` for the first datagram back. `accept` can reject
   * stray datagrams (e.g. an old reply) so that waiting continues.
   */
  exchange(
    request: Uint8Array,
    options: { readonly timeoutMs: number; readonly accept?: (reply: Uint8Array) => boolean },
  ): Promise<QueryExchange> {
    return new Promise((resolve) => {
      let sentAt: NtpTimestamp | null = null;
      let finished = false;
      // AbortSignal.timeout: cheaper to start than a first setTimeout (see control_client.ts).
      const timeout = AbortSignal.timeout(options.timeoutMs);
      const onTimeout = () => finish(null, null);
      const finish = (reply: Uint8Array | null, receivedAt: NtpTimestamp | null) => {
        if (finished) return;
        finished = true;
        this.#onReply = null;
        this.#cancel = null;
        timeout.removeEventListener("abort", onTimeout); // or it holds the process until it fires
        resolve({ sentAt: sentAt ?? ntpOf(this.#readClock()), reply, receivedAt });
      };
      timeout.addEventListener("abort", onTimeout);
      this.#cancel = onTimeout;
      this.#onReply = (bytes, at) => {
        if (options.accept === undefined || options.accept(bytes)) finish(bytes, at);
      };
      const sent = this.#socket.send(request);
      // A failed send shows as no answer, like a lost datagram.
      if (sent.ok) sentAt = ntpOf(sent.transmitKernel);
      else finish(null, null);
    });
  }

  /** Closes the socket. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // An exchange still waiting ends now: its timeout listener would keep the program alive.
    this.#cancel?.();
    this.#onReply = null;
    await this.#socket.close();
  }

  /** Closes the socket. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Resolves the host (preferring IPv4 when it has both) and opens a UDP socket for it; `socket`
 * picks the back end and, for dgram, the wall clock its stamps come from.
 *
 * @throws {QueryResolveError} When the host name does not resolve.
 * @example
 * ```ts
 * import { buildExchangeRequest } from "../core/client/exchange.ts";
 * const request = buildExchangeRequest(crypto.getRandomValues(new Uint8Array(8)));
 * await using client = await openQueryClient({ host: "127.0.0.1", port: 123 });
 * const { reply } = await client.exchange(request, { timeoutMs: 2000 });
 * ```
 */
export async function openQueryClient(
  target: QueryTarget,
  socket?: UdpPeerSocketOptions,
): Promise<QueryClient> {
  return new QueryClient(
    await connectUdpPeer(target, (m) => new QueryResolveError(m), socket),
    socket?.readClock,
  );
}

function ntpOf(reading: ClockReading): NtpTimestamp {
  return ntpFromUnix(reading.unixSeconds, reading.nanoseconds);
}
