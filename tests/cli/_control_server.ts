// In-process control server for CLI tests: real responders on a loopback port plus attachControlServer with a fixed-time fake view.
import { type ControlView, ZERO_SERVER_COUNTERS } from "../../src/core/control/control_view.ts";
import { defaultRateLimitPolicy } from "../../src/core/server/rate_limit.ts";
import { ntpFromUnix } from "../../src/core/time/ntp_timestamp.ts";
import { attachControlServer } from "../../src/daemon/control_server.ts";
import { startResponders } from "../../src/daemon/responders.ts";
import { fakeControlView, type FakeViewName } from "../support/fake_control_views.ts";

/** The fixed time of the snapshot tests: 2026-11-28T10:13:57Z. */
export const FIXED_NOW_UNIX_SECONDS = 1_795_860_837;

/** A running in-process server; dispose it to stop. */
export interface InProcessControlServer extends AsyncDisposable {
  readonly port: number;
}

/**
 * Starts the portable responders on 127.0.0.1 (free port) and a control server answering from
 * the named fake view at {@link FIXED_NOW_UNIX_SECONDS}, with fixed counters; `options.view`
 * replaces it (a function: asked for the view at every request, so it can change).
 */
export async function startInProcessControlServer(
  name: FakeViewName,
  options: { readonly view?: ControlView | (() => ControlView) } = {},
): Promise<InProcessControlServer> {
  const responders = await startResponders({
    listen: [{ hostname: "127.0.0.1", port: 0, family: 4 }],
    workers: 1,
    restrict: [],
    rateLimit: defaultRateLimitPolicy,
    io: "portable",
  });
  const view = options.view ?? fakeControlView(name, {
    nowUnixSeconds: FIXED_NOW_UNIX_SECONDS,
    uptimeSeconds: 86_461,
    counters: {
      ...ZERO_SERVER_COUNTERS,
      receivedPackets: 1_234_567,
      servedPackets: 1_230_001,
      kodSentPackets: 17,
      rateLimitedPackets: 4_321,
      restrictedPackets: 12,
      badFormatPackets: 3,
      declinedPackets: 2,
      controlRequests: 211,
      // served + kodSent + rateLimited = 1_234_339 time requests passed the access rules.
      currentVersionPackets: 1_234_000,
      olderVersionPackets: 339,
      version1ClientPackets: 7,
    },
  });
  const control = attachControlServer(responders, {
    view: typeof view === "function" ? view : () => view,
    now: () => ntpFromUnix(FIXED_NOW_UNIX_SECONDS, 0),
  });
  return {
    port: responders.addresses[0]!.port,
    async [Symbol.asyncDispose]() {
      control.close();
      await responders.close();
    },
  };
}
