// Test-only server: the real responders plus attachControlServer with a fake view, so real ntpq/ntpstat/check_ntp_peer can be pointed at it.
// Usage: deno run -A control_fixture_server.ts --listen HOST:PORT [--listen ...] --view synced|unsynced|empty
//        [--restrict seed|open] [--io fast|portable]
// Logs "serving on ..." to stderr when ready; SIGTERM or SIGINT stops it (exit 0).
import { parseConfigText, toRateLimitPolicy, toRestrictRules } from "../../src/config/mod.ts";
import { serverCountersFromRecord } from "../../src/core/control/control_view.ts";
import { attachControlServer } from "../../src/daemon/control_server.ts";
import { startResponders } from "../../src/daemon/responders.ts";
import type { ListenEndpoint } from "../../src/io/responders_types.ts";
import { refidFromIPv4 } from "../../src/core/packet/refid.ts";
import { ntpFromUnix } from "../../src/core/time/ntp_timestamp.ts";
import { fakeControlView, type FakeViewName } from "./fake_control_views.ts";

/** The seed's access rules (tests/testdata/config/seed-ntp.conf): noquery for the world, full access for localhost. */
const seedRestrict = `restrict -4 default kod limited nomodify notrap nopeer noquery
restrict -6 default kod limited nomodify notrap nopeer noquery
restrict -4 127.0.0.1
restrict -6 ::1
`;

function parseArgs(args: readonly string[]) {
  const listen: ListenEndpoint[] = [];
  let view: FakeViewName = "synced";
  let restrict: "seed" | "open" = "seed";
  let io: "fast" | "portable" | undefined;
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const value = args[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === "--listen") {
      const match = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:]+):(\d+)$/.exec(value);
      if (match === null) throw new Error(`bad --listen ${value}`);
      const hostname = match[1]!;
      listen.push({ hostname, port: Number(match[2]), family: hostname.includes(":") ? 6 : 4 });
    } else if (flag === "--view") {
      view = value as FakeViewName;
    } else if (flag === "--restrict") {
      restrict = value as "seed" | "open";
    } else if (flag === "--io") {
      io = value as "fast" | "portable";
    } else {
      throw new Error(`unknown flag ${flag}`);
    }
  }
  return { listen, view, restrict, io };
}

const options = parseArgs(Deno.args);
const config = parseConfigText(options.restrict === "seed" ? seedRestrict : "", {
  fileName: "fixture.conf",
  format: "ntp.conf",
});
const responders = await startResponders({
  listen: options.listen,
  workers: 1,
  restrict: toRestrictRules(config),
  rateLimit: toRateLimitPolicy(config),
  ...(options.io === undefined ? {} : { io: options.io }),
});
const startedAt = Date.now() / 1000;
const view = () => {
  const nowUnixSeconds = Date.now() / 1000;
  return fakeControlView(options.view, {
    nowUnixSeconds,
    counters: serverCountersFromRecord(responders.counters()),
    uptimeSeconds: nowUnixSeconds - startedAt,
  });
};
// Serve the fake system's leap, stratum and refid on mode 3 too, so time clients agree with it.
const system = view().system;
const now = Date.now() / 1000;
responders.publish({
  leap: system.leap,
  stratum: system.stratum,
  precisionLog2: responders.precisionLog2,
  referenceId: system.stratum === 10
    ? refidFromIPv4(new Uint8Array([127, 0, 0, 1]))
    : system.referenceId,
  referenceTime: ntpFromUnix(Math.floor(now) - 41, 0),
  rootDelaySeconds: system.rootDelaySeconds,
  rootDispersionSeconds: system.rootDispersionSeconds,
});
const control = attachControlServer(responders, { view });
const bound = responders.addresses.map((
  a,
) => (a.family === 6 ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`));
console.error(
  `control fixture (${options.view} view, ${options.restrict} restrict) serving on ${
    bound.join(", ")
  }`,
);

await new Promise<void>((resolve) => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => resolve());
  }
});
control.close();
await responders.close();
Deno.exit(0);
