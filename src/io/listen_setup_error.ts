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

/**
 * A socket systemd passed (socket activation) cannot be served as it is; the message names the
 * descriptor, what is wrong and the fix in the .socket unit.
 *
 * @example
 * ```ts
 * const error = new InheritedSocketError(3, "IPV6_V6ONLY", "it also takes IPv4");
 * error.message; // "cannot serve the socket systemd passed as descriptor 3 (IPV6_V6ONLY): it also takes IPv4"
 * ```
 */
export class InheritedSocketError extends Error {
  override name = "InheritedSocketError";
  constructor(fd: number, step: string, detail: string) {
    super(`cannot serve the socket systemd passed as descriptor ${fd} (${step}): ${detail}`);
  }
}
