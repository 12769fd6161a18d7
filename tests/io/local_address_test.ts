// Tests of localAddressFor(): the source address the kernel picks toward a host, or null without a route.
import assert from "node:assert/strict";
import { localAddressFor } from "../../src/io/local_address.ts";

Deno.test("localAddressFor() names the loopback address toward a loopback host", () => {
  assert.equal(localAddressFor({ hostname: "127.0.0.1", port: 123, family: 4 }), "127.0.0.1");
  assert.equal(localAddressFor({ hostname: "127.0.0.2", port: 123, family: 4 }), "127.0.0.1");
  assert.equal(localAddressFor({ hostname: "::1", port: 123, family: 6 }), "::1");
});

Deno.test("localAddressFor() is null, not an exception, for a bad literal or no route", () => {
  // An IPv4 literal asked for as IPv6, and a name (only IP literals are looked up).
  assert.equal(localAddressFor({ hostname: "127.0.0.1", port: 123, family: 6 }), null);
  assert.equal(localAddressFor({ hostname: "localhost", port: 123, family: 4 }), null);
  // No route: a link-local IPv6 address without a scope.
  assert.equal(localAddressFor({ hostname: "fe80::1", port: 123, family: 6 }), null);
});
