// The time keeping's client sockets: one per address family, opened on first need, every datagram handed to one handler fixed at construction.
import {
  openUpstreamSocket,
  type UpstreamDatagram,
  type UpstreamSocket,
  type UpstreamSocketOptions,
} from "../io/udp_client.ts";
import { UpstreamSocketError } from "./upstream_socket_error.ts";

/** How a socket is opened (src/io/udp_client.ts; tests count or fail them). */
export type OpenUpstreamSocket = (options: UpstreamSocketOptions) => Promise<UpstreamSocket>;

/**
 * One UDP socket per address family toward the upstreams. The handler is given at construction,
 * before any socket exists, so a datagram can never arrive at something not yet built. The map
 * holds each opening promise: two callers that need a new family at once share one socket, a
 * failed opening is tried again by the next caller, and close() also waits for a socket still
 * being opened.
 *
 * @example
 * ```ts
 * import type { UpstreamDatagram } from "../io/udp_client.ts";
 * declare function handle(datagram: UpstreamDatagram): void;
 * await using sockets = new UpstreamSockets({ onDatagram: (d) => handle(d) });
 * const socket = await sockets.socketFor(4);
 * ```
 */
export class UpstreamSockets implements AsyncDisposable {
  readonly #opening = new Map<4 | 6, Promise<UpstreamSocket>>();
  readonly #open = new Map<4 | 6, UpstreamSocket>();
  readonly #options: {
    readonly onDatagram: (datagram: UpstreamDatagram) => void;
    readonly onError?: (message: string) => void;
    readonly open?: OpenUpstreamSocket;
  };
  #closed = false;

  /** Sockets that hand every datagram to `onDatagram` (until closed). */
  constructor(options: {
    readonly onDatagram: (datagram: UpstreamDatagram) => void;
    readonly onError?: (message: string) => void;
    readonly open?: OpenUpstreamSocket;
  }) {
    this.#options = options;
  }

  /** The socket for `family`, opened now if it is not yet. */
  socketFor(family: 4 | 6): Promise<UpstreamSocket> {
    if (this.#closed) return Promise.reject(new Error("the upstream sockets are closed"));
    let socket = this.#opening.get(family);
    if (socket === undefined) {
      const open = this.#options.open ?? openUpstreamSocket;
      socket = open({
        family,
        onDatagram: (datagram) => {
          if (!this.#closed) this.#options.onDatagram(datagram);
        },
        onError: (message) => this.#options.onError?.(`upstream IPv${family} socket: ${message}`),
      }).then((opened) => {
        this.#open.set(family, opened);
        return opened;
      }, (error) => {
        this.#opening.delete(family);
        const reason = error instanceof Error ? error.message : String(error);
        throw new UpstreamSocketError(`cannot open the IPv${family} upstream socket: ${reason}`);
      });
      this.#opening.set(family, socket);
    }
    return socket;
  }

  /** The open socket for `family`, if there is one. */
  get(family: 4 | 6): UpstreamSocket | undefined {
    return this.#open.get(family);
  }

  /** Closes every socket, those still opening too; datagrams stop reaching the handler at once. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#open.clear();
    await Promise.all(
      [...this.#opening.values()].map((socket) => socket.then((s) => s.close(), () => {})),
    );
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
