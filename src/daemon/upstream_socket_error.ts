// The error of an upstream socket that cannot be opened, apart from the sockets so `serve` can recognise it without loading them.

/**
 * An upstream socket could not be opened (no IPv6 on the host, no FFI, out of descriptors).
 *
 * @example
 * ```ts
 * const error = new UpstreamSocketError("cannot open the IPv6 upstream socket: EAFNOSUPPORT");
 * error.name; // "UpstreamSocketError"
 * ```
 */
export class UpstreamSocketError extends Error {
  override name = "UpstreamSocketError";
}
