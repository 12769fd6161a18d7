// The error a metrics endpoint that cannot listen raises; its own module so the daemon can recognise it without loading the metrics library.

/** The endpoint could not be started (address in use, not a local address, no permission). */
export class MetricsBindError extends Error {
  override name = "MetricsBindError";
}
