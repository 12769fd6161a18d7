// One-shot NTP client transport (node:dgram): sends a mode 3 request and timestamps the send and the reply with the wall clock.
import type dgram from "node:dgram";
import { connectUdp } from "./udp_connect.ts";
import { ntpFromUnix, type NtpTimestamp } from "../core/time/ntp_timestamp.ts";
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
 * A UDP socket connected to one server (so only that address and port can answer). Owns the
 * socket: close it (or `using`) when done.
 */
export class QueryClient implements Disposable {
  /** The address the host resolved to. */
  readonly address: string;
  readonly port: number;
  readonly #socket: dgram.Socket;
  readonly #now: () => NtpTimestamp;
  #onReply: ((bytes: Uint8Array, at: NtpTimestamp) => void) | null = null;
  #closed = false;

  /** Takes ownership of a connected socket. Use {@link openQueryClient}. */
  constructor(socket: dgram.Socket, endpoint: { readonly address: string; readonly port: number }) {
    this.#socket = socket;
    this.address = endpoint.address;
    this.port = endpoint.port;
    const read = chooseRealtimeReader();
    this.#now = () => {
      const reading = read();
      return ntpFromUnix(reading.unixSeconds, reading.nanoseconds);
    };
    socket.on("message", (bytes: Uint8Array) => {
      const at = this.#now();
      this.#onReply?.(new Uint8Array(bytes), at);
    });
    socket.on("error", () => {
      // A failed exchange shows as a timeout.
    });
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
      let sentAt: NtpTimestamp = this.#now();
      const finish = (reply: Uint8Array | null, receivedAt: NtpTimestamp | null) => {
        clearTimeout(timer);
        this.#onReply = null;
        resolve({ sentAt, reply, receivedAt });
      };
      const timer = setTimeout(() => finish(null, null), options.timeoutMs);
      this.#onReply = (bytes, at) => {
        if (options.accept === undefined || options.accept(bytes)) finish(bytes, at);
      };
      sentAt = this.#now();
      this.#socket.send(request, (error) => {
        if (error) finish(null, null);
      });
    });
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onReply = null;
    this.#socket.close();
  }

  /** Closes the socket. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Resolves the host (preferring IPv4 when it has both) and connects a UDP socket to it.
 *
 * @throws {QueryResolveError} When the host name does not resolve.
 * @example
 * ```ts
 * using client = await openQueryClient({ host: "127.0.0.1", port: 123 });
 * const { reply } = await client.exchange(request, { timeoutMs: 2000 });
 * ```
 */
export async function openQueryClient(target: QueryTarget): Promise<QueryClient> {
  const { socket, address } = await connectUdp(target, (m) => new QueryResolveError(m));
  return new QueryClient(socket, { address, port: target.port });
}
