// The contract between the daemon and the packet responders (fast FFI workers or portable node:dgram).
import type {
  ClientAddress,
  RateLimitPolicy,
  RestrictRule,
  ServerPolicy,
} from "../core/server/types.ts";
import type { PublishedSnapshot } from "./snapshot_buffer.ts";
import type { MruEntry } from "../core/control/control_view.ts";

/** One address to answer on. Port 0 picks a free port (reported in {@link Responders.addresses}). */
export interface ListenEndpoint {
  /** An IP literal: "0.0.0.0", "127.0.0.1", "::", "::1" (brackets allowed for IPv6). */
  readonly hostname: string;
  readonly port: number;
  readonly family: 4 | 6;
  /**
   * Serves a smeared leap second (core/leap/leap_smear.ts) and never announces one; default
   * false.
   */
  readonly smear?: boolean;
  /**
   * A socket this process inherited already bound to this address (systemd socket activation,
   * listen_fds.ts): it is served as it is instead of binding one. Served by one responder thread
   * (an inherited socket is no SO_REUSEPORT group); closed with the responders.
   */
  readonly inheritedFd?: number;
}

/** Which packet I/O back end to use. */
export type IoBackend = "fast" | "portable";

/** Options of {@link startResponders}. */
export interface RespondersOptions {
  readonly listen: readonly ListenEndpoint[];
  /** Responder threads (fast back end; the portable one always uses the main thread). */
  readonly workers: number;
  readonly restrict: readonly RestrictRule[];
  readonly rateLimit: RateLimitPolicy;
  /**
   * "fast": libc recvmmsg/sendmmsg through FFI in worker threads (Linux x86_64/aarch64,
   * needs --allow-ffi). "portable": node:dgram on the main thread, ~10x slower, 1 ms clock
   * resolution without FFI. Default: fast when FFI is permitted, else portable.
   */
  readonly io?: IoBackend;
  /** The first snapshot served; default unsynchronised (LI 3, stratum 16, refid INIT). */
  readonly initialSnapshot?: PublishedSnapshot;
  /** Datagrams per recvmmsg/sendmmsg call (fast back end); default 64. */
  readonly batchSize?: number;
  /**
   * Fast back end: send replies once this many are ready rather than after the whole received
   * batch (lower latency for the first datagrams of a burst); default 64.
   */
  readonly flushReplies?: number;
  /** Requested socket receive buffer in bytes; default 4 MiB (capped by net.core.rmem_max). */
  readonly receiveBufferBytes?: number;
  /**
   * Serve NTS (fast back end only): the shared cookie keys (nts_key_buffer.ts), published
   * before the first NTS request can be answered.
   */
  readonly nts?: { readonly keyBuffer: SharedArrayBuffer };
}

/** A listen address as actually bound (port 0 resolved). */
export interface BoundEndpoint {
  readonly hostname: string;
  readonly port: number;
  readonly family: 4 | 6;
}

/** Running responders. */
export interface Responders {
  /** The back end in use. */
  readonly io: IoBackend;
  /** The bound addresses, in the order of `options.listen`. */
  readonly addresses: readonly BoundEndpoint[];
  /** The clock reading precision measured at start (log2 s), as put in the initial snapshot. */
  readonly precisionLog2: number;
  /**
   * Optional socket features the kernel refused, one sentence each (what is missing, what it
   * costs), for the daemon to warn about once; empty when all are on.
   */
  readonly missingFeatures: readonly string[];
  /**
   * Publishes what the server advertises and the soft clock correction; responders use it from
   * their next datagram batch on. Without `clockEpochUnixSeconds`, the correction's epoch is the
   * kernel clock at the time of the call.
   */
  publish(snapshot: PublishedSnapshot): void;
  /**
   * Replaces the restrict rules and rate limits (a config reload); every responder uses them from
   * its next datagram batch on, and the client table keeps its history.
   *
   * @throws {RangeError} If `rateLimit.tableEntries` differs from the running table's size, or
   * the rules do not fit the shared buffer (fast back end: ~10 000 rules).
   */
  updatePolicy(policy: ServerPolicy): void;
  /** Counter totals across all responders: the core's counters plus the I/O layer's (io*). */
  counters(): Record<string, number>;
  /**
   * The clients whose time requests the responders recorded (ntpq's mrulist), most recently
   * seen first, at most `limit`, with wall-clock first and last times.
   */
  recentClients(limit: number): MruEntry[];
  /**
   * Registers the receiver of mode 6 (control) requests that passed the access checks. `data`
   * and `client` are the callee's to keep; pass the same `client` object to
   * {@link sendControlReply} so the answer leaves from the address the request was sent to.
   */
  onControl(callback: (data: Uint8Array, client: ClientAddress) => void): void;
  /** Sends one mode 6 response datagram to `client` (call it once per fragment). */
  sendControlReply(bytes: Uint8Array, client: ClientAddress): void;
  /** Stops every responder, waits for the threads to end and closes the sockets. */
  close(): Promise<void>;
}
