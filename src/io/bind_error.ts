// The error a listen address that cannot be bound raises, with a message naming the address and the fix.

/** A listen address could not be bound; the message names the address and the fix. */
export class BindError extends Error {
  override name = "BindError";
  /** The address as "127.0.0.1:123" or "[::1]:123". */
  readonly endpoint: string;
  /** The errno name ("EADDRINUSE", "EACCES", ...), or "UNKNOWN". */
  readonly code: string;
  /**
   * @param endpoint "127.0.0.1:123" or "[::1]:123".
   * @param failure The errno name and, for unusual errors, the system's text for it.
   */
  constructor(endpoint: string, failure: { code: string; detail?: string; port: number }) {
    super(bindErrorMessage(endpoint, failure));
    this.endpoint = endpoint;
    this.code = failure.code;
  }
}

/**
 * The message for a failed bind: "cannot bind 127.0.0.1:123/udp: address in use by another
 * process (is chronyd or ntpd running?)", and for EACCES on a port below 1024 the three fixes.
 */
export function bindErrorMessage(
  endpoint: string,
  failure: { code: string; detail?: string; port: number },
): string {
  const prefix = `cannot bind ${endpoint}/udp`;
  switch (failure.code) {
    case "EACCES":
    case "EPERM":
      return failure.port < 1024
        ? `${prefix}: permission denied; ports below 1024 need privilege: run as root, grant CAP_NET_BIND_SERVICE, or use another port`
        : `${prefix}: permission denied (${failure.detail ?? failure.code})`;
    case "EADDRINUSE":
      return `${prefix}: address in use by another process (is chronyd or ntpd running?)`;
    case "EADDRNOTAVAIL":
      return `${prefix}: no interface on this host has that address (check the listen address)`;
    case "EAFNOSUPPORT":
      return `${prefix}: this host does not support the address family (IPv6 disabled?)`;
    default:
      return `${prefix}: ${failure.detail ?? failure.code}`;
  }
}
