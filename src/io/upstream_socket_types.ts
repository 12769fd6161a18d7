// The types of an upstream socket, shared by the FFI transport (udp_client.ts) and the portable one (udp_client_portable.ts).
import type { ClockReading } from "./clock_driver.ts";

/** An upstream address and port (an IP literal: resolve names first with resolve_name.ts). */
export interface UpstreamEndpoint {
  readonly hostname: string;
  readonly port: number;
  readonly family: 4 | 6;
}

/** A datagram from upstream with its receive time on the kernel clock (uncorrected). */
export interface UpstreamDatagram {
  readonly data: Uint8Array;
  readonly from: UpstreamEndpoint;
  /** CLOCK_REALTIME at receipt; convert with the clock driver's fromKernel(). */
  readonly receiveKernel: ClockReading;
  /** "kernel": the SO_TIMESTAMPNS stamp; "user": read in user space after the datagram arrived. */
  readonly receiveSource: "kernel" | "user";
}

/** The outcome of a send: the kernel time read right before the datagram was handed over, or why it failed. */
export type SendOutcome =
  | { readonly ok: true; readonly transmitKernel: ClockReading }
  | { readonly ok: false; readonly message: string };

/** Which implementation an UpstreamSocket uses. */
export type UpstreamBackend = "ffi" | "dgram";

/** An open upstream socket. Close it (or `await using`) to stop receiving and free the port. */
export interface UpstreamSocket extends AsyncDisposable {
  readonly backend: UpstreamBackend;
  readonly family: 4 | 6;
  /** The local port the kernel gave the socket. */
  readonly localPort: number;
  /**
   * Sends `data` to `to` (of this socket's family). `transmitKernel` is CLOCK_REALTIME read
   * immediately before the send call; convert it with the clock driver's fromKernel().
   */
  send(data: Uint8Array, to: { readonly hostname: string; readonly port: number }): SendOutcome;
  /** Stops receiving and closes the socket; idempotent. */
  close(): Promise<void>;
}

/** Options for {@link openUpstreamSocket}. */
export interface UpstreamSocketOptions {
  readonly family: 4 | 6;
  /** Local address to bind (default the wildcard of the family). */
  readonly bindAddress?: string;
  /** Local port (default 0: an ephemeral port). */
  readonly port?: number;
  /** "auto" (default): FFI when --allow-ffi is granted on Linux x86_64/aarch64, else node:dgram. */
  readonly backend?: "auto" | UpstreamBackend;
  /** Called for every datagram received, on the main thread. */
  readonly onDatagram: (datagram: UpstreamDatagram) => void;
  /** Called when receiving fails for good (the socket stops receiving). Default: ignored. */
  readonly onError?: (message: string) => void;
  /**
   * The wall clock the dgram back end stamps datagrams with (user space); default the best the
   * process may read (clock_gettime through FFI, else Date.now()). The FFI back end stamps in
   * the kernel and ignores it.
   */
  readonly readClock?: () => ClockReading;
}
