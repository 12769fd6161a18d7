// Mode 6 client transport over UDP: sends ntpq-style requests, collects and joins the response fragments.
import { connectUdpPeer, type UdpPeer } from "./udp_peer.ts";
import {
  type ControlMessage,
  decodeControlMessage,
  encodeControlMessage,
} from "../core/control/control_message.ts";
import {
  answersRequest,
  type ControlResponse,
  reassembleFragments,
} from "../core/control/reassemble_fragments.ts";

/** The daemon to talk to. */
export interface ControlTarget {
  /** Host name or IP literal (brackets not included). */
  readonly host: string;
  readonly port: number;
}

/** One request: opcode, association (default 0 = system) and data (default none). */
export interface ControlRequest {
  readonly opcode: number;
  readonly associationId?: number;
  /** Text such as "stratum,offset" (sent as ASCII) or raw bytes. */
  readonly data?: string | Uint8Array;
}

/** Options of {@link openControlClient}. */
export interface ControlClientOptions {
  /** How long to wait for a complete response per attempt, ms (default 1000). */
  readonly timeoutMs?: number;
  /** Extra attempts after a timeout (default 1, as ntpq). */
  readonly retries?: number;
  /** NTP version of the requests (default 2, what ntpq and ntpstat send). */
  readonly version?: number;
}

/** No complete response arrived in time (the daemon is not running, or ignores mode 6). */
export class ControlTimeoutError extends Error {
  override name = "ControlTimeoutError";
}

/** The host name could not be resolved. */
export class ControlResolveError extends Error {
  override name = "ControlResolveError";
}

/** The server answered with the error bit set. */
export class ControlServerError extends Error {
  override name = "ControlServerError";
  /** The error code (ControlErrorCode): 4 bad association, 5 unknown variable, ... */
  readonly errorCode: number;

  /** Creates the error for `errorCode`. */
  constructor(errorCode: number, opcode: number) {
    super(`the server answered opcode ${opcode} with error ${errorCode} (${errorName(errorCode)})`);
    this.errorCode = errorCode;
  }
}

function errorName(code: number): string {
  return [
    "unspecified",
    "permission denied",
    "bad format",
    "bad opcode",
    "unknown association",
    "unknown variable",
    "bad value",
    "restricted",
  ][code] ?? "unknown error";
}

/**
 * A UDP socket for one daemon, sending one control request at a time with rising
 * sequence numbers (from 1, as ntpq) and joining the fragments of each answer. Owns the socket:
 * close it (or `await using`) when done.
 */
export class ControlClient implements AsyncDisposable {
  /** The address the host resolved to. */
  readonly address: string;
  readonly port: number;
  readonly #socket: UdpPeer;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #version: number;
  #sequence = 0;
  #pending: ((message: ControlMessage) => void) | null = null;
  #closed = false;

  /** Takes ownership of a peer socket. Use {@link openControlClient}. */
  constructor(
    socket: UdpPeer,
    options: ControlClientOptions & { readonly address: string; readonly port: number },
  ) {
    this.#socket = socket;
    this.address = options.address;
    this.port = options.port;
    this.#timeoutMs = options.timeoutMs ?? 1000;
    this.#retries = options.retries ?? 1;
    this.#version = options.version ?? 2;
    socket.onDatagram = (datagram) => {
      const message = decodeControlMessage(datagram.data);
      if (message !== null) this.#pending?.(message);
    };
  }

  /**
   * Sends `request` and resolves with the joined response.
   *
   * @throws {ControlTimeoutError} When no complete answer arrived after all attempts.
   * @throws {ControlServerError} When the server answered with an error code.
   */
  async request(request: ControlRequest): Promise<ControlResponse> {
    for (let attempt = 0; attempt <= this.#retries; attempt++) {
      const response = await this.#attempt(request);
      if (response === null) continue;
      if (response.errorCode !== null) {
        throw new ControlServerError(response.errorCode, request.opcode);
      }
      return response;
    }
    throw new ControlTimeoutError(
      `no answer to mode 6 opcode ${request.opcode} from ${this.address} port ${this.port} ` +
        `(${this.#retries + 1} x ${this.#timeoutMs} ms)`,
    );
  }

  /** Closes the socket. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = null;
    await this.#socket.close();
  }

  /** Closes the socket. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #attempt(request: ControlRequest): Promise<ControlResponse | null> {
    this.#sequence = (this.#sequence % 0xffff) + 1;
    const sequence = this.#sequence;
    const data = typeof request.data === "string"
      ? new TextEncoder().encode(request.data)
      : request.data ?? new Uint8Array(0);
    const bytes = encodeControlMessage({
      leap: 3,
      version: this.#version,
      response: false,
      error: false,
      more: false,
      opcode: request.opcode,
      sequence,
      status: 0,
      associationId: request.associationId ?? 0,
      offset: 0,
      data,
    });
    return new Promise((resolve) => {
      const fragments: ControlMessage[] = [];
      let finished = false;
      // AbortSignal.timeout rather than setTimeout: a one-shot command's first setTimeout costs
      // it ~5 ms (Deno 2.9), a fifth of an empty program's run time.
      const timeout = AbortSignal.timeout(this.#timeoutMs);
      const onTimeout = () => finish(null);
      const finish = (response: ControlResponse | null) => {
        if (finished) return;
        finished = true;
        this.#pending = null;
        timeout.removeEventListener("abort", onTimeout); // or it holds the process until it fires
        resolve(response);
      };
      timeout.addEventListener("abort", onTimeout);
      this.#pending = (message) => {
        if (!answersRequest(message, { opcode: request.opcode, sequence })) return;
        fragments.push(message);
        const response = reassembleFragments(fragments);
        if (response !== null) finish(response);
      };
      // A failed send shows as a timeout of the request, like a lost datagram.
      if (!this.#socket.send(bytes).ok) finish(null);
    });
  }
}

/**
 * Resolves `target.host` and opens a UDP socket for it; only that address and port can answer.
 *
 * @throws {ControlResolveError} When the host name does not resolve.
 * @example
 * ```ts
 * import { ControlOpcode } from "../core/control/control_message.ts";
 * await using client = await openControlClient({ host: "localhost", port: 123 });
 * const status = await client.request({ opcode: ControlOpcode.readStatus });
 * ```
 */
export async function openControlClient(
  target: ControlTarget,
  options: ControlClientOptions = {},
): Promise<ControlClient> {
  const peer = await connectUdpPeer(target, (m) => new ControlResolveError(m));
  return new ControlClient(peer, { ...options, address: peer.address, port: target.port });
}
