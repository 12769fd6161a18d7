// Test fixture process: tries to start responders on ADDRESS:PORT and prints the outcome (used without privileges).
import { defaultRateLimitPolicy } from "../../src/core/server/rate_limit.ts";
import { startResponders } from "../../src/daemon/responders.ts";

const [io, hostname, port] = Deno.args;
if ((io !== "fast" && io !== "portable") || hostname === undefined || port === undefined) {
  console.error("usage: _bind_fixture.ts fast|portable ADDRESS PORT");
  Deno.exit(2);
}
try {
  const responders = await startResponders({
    io,
    listen: [{ hostname, port: Number(port), family: hostname.includes(":") ? 6 : 4 }],
    workers: 1,
    restrict: [],
    rateLimit: defaultRateLimitPolicy,
  });
  console.log("BOUND");
  await responders.close();
} catch (error) {
  console.log(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
}
