// The error a listen socket raises when the kernel refuses a socket option the fast I/O back end cannot do without.

/**
 * A socket option the fast responders need (SO_REUSEPORT, SO_RCVTIMEO, IPV6_V6ONLY) was refused;
 * the message names the address, the option, the system's reason and the way out.
 *
 * @example
 * ```ts
 * const error = new ListenSetupError("127.0.0.1:123", "SO_RCVTIMEO", "Protocol not available");
 * error.message.includes("--io portable"); // true
 * ```
 */
export class ListenSetupError extends Error {
  override name = "ListenSetupError";
  /** The address as "127.0.0.1:123" or "[::1]:123". */
  readonly endpoint: string;
  /** The option refused ("SO_REUSEPORT", ...). */
  readonly option: string;
  constructor(endpoint: string, option: string, detail: string) {
    super(
      `cannot set up ${endpoint}/udp: the kernel refused ${option} (${detail}), which the fast ` +
        "I/O back end needs; run `ntp serve --io portable` on this system",
    );
    this.endpoint = endpoint;
    this.option = option;
  }
}
