// The opt-in Prometheus endpoint: an HTTP server (Deno.serve) answering GET /metrics from the daemon's ControlView, like the control server does.
import type { ListenAddress } from "../config/ntp_config.ts";
import { formatHostPort } from "../config/addresses.ts";
import type { ControlView } from "../core/control/control_view.ts";
import { EXPOSITION_CONTENT_TYPE, renderExposition } from "../core/metrics/exposition.ts";
import { metricFamiliesOf } from "../core/metrics/metric_families.ts";
import { MetricsBindError } from "./metrics_bind_error.ts";

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** Where to listen (TCP); port 0 picks a free port (see {@link MetricsServer.port}). */
  readonly listen: ListenAddress;
  /** The state to report; called once per scrape (the same view mode 6 answers from). */
  readonly view: () => ControlView;
  /** Called when a scrape fails inside (the client gets a 500); for logs. */
  readonly onError?: (error: unknown) => void;
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** The address it listens on. */
  readonly hostname: string;
  /** The TCP port it listens on (the kernel's choice when 0 was asked). */
  readonly port: number;
  /** The URL to scrape, e.g. "http://127.0.0.1:9123/metrics". */
  readonly url: string;
  /** Stops listening and waits for open requests to finish. Idempotent. */
  close(): Promise<void>;
}

export { MetricsBindError };

/**
 * Answers one request: GET or HEAD /metrics with the exposition of `view()`, GET / with a
 * pointer to it, 405 for other methods and 404 for other paths.
 */
export async function answerMetricsRequest(
  request: Request,
  options: Pick<MetricsServerOptions, "view" | "onError">,
): Promise<Response> {
  const path = new URL(request.url).pathname;
  if (path !== "/metrics" && path !== "/") {
    return new Response("not found; metrics are at /metrics\n", { status: 404 });
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  if (path === "/") {
    return new Response("ntp: Prometheus metrics are at /metrics\n", {
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
  let body: string;
  try {
    body = await renderExposition(metricFamiliesOf(options.view()));
  } catch (error) {
    options.onError?.(error);
    return new Response("cannot render the metrics (see the daemon's log)\n", { status: 500 });
  }
  return new Response(request.method === "HEAD" ? null : body, {
    headers: { "content-type": EXPOSITION_CONTENT_TYPE, "cache-control": "no-store" },
  });
}

/**
 * Starts the HTTP endpoint. Scrapes read `view()` at that moment, so the numbers are those
 * `ntp status --json` would read over mode 6 at the same moment.
 *
 * @throws {MetricsBindError} When the address cannot be bound (in use, not local, no permission).
 * @example
 * ```ts
 * import type { NtpConfig } from "../config/ntp_config.ts";
 * import type { ControlView } from "../core/control/control_view.ts";
 * import { log } from "./logging.ts";
 * declare const config: NtpConfig;
 * declare function controlView(): ControlView;
 * const metrics = startMetricsServer({ listen: config.metrics.listen!, view: controlView });
 * log("serve").info(`metrics on ${metrics.url}`);
 * // ...
 * await metrics.close();
 * ```
 */
export function startMetricsServer(options: MetricsServerOptions): MetricsServer {
  const { hostname, port } = options.listen;
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname,
      port,
      onListen: () => {},
      onError: (error) => {
        options.onError?.(error);
        return new Response("internal error\n", { status: 500 });
      },
    }, (request) => answerMetricsRequest(request, options));
  } catch (error) {
    const reason = error instanceof Deno.errors.AddrInUse
      ? "the address is in use (another process listens on that TCP port)"
      : error instanceof Deno.errors.AddrNotAvailable
      ? "it is not an address of this machine"
      : error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable
      ? `permission denied (${(error as Error).message})`
      : (error as Error).message;
    throw new MetricsBindError(
      `cannot serve metrics on ${formatHostPort(hostname, port)}: ${reason}; ` +
        "change [metrics] listen or free the port",
    );
  }
  const bound = server.addr;
  let closing: Promise<void> | null = null;
  return {
    hostname: bound.hostname,
    port: bound.port,
    url: `http://${formatHostPort(bound.hostname, bound.port)}/metrics`,
    close() {
      closing ??= server.shutdown();
      return closing;
    },
  };
}
