// toRestrictRules() and toRateLimitPolicy(): the config in the responder's matching forms.
import assert from "node:assert/strict";
import { parseConfigText } from "../../src/config/parse_config.ts";
import { toRateLimitPolicy } from "../../src/config/rate_limit_policy.ts";
import { toRestrictRules } from "../../src/config/restrict_rules.ts";
import { defaultRateLimitPolicy } from "../../src/core/server/rate_limit.ts";

const load = (text: string, fileName = "t.conf") => parseConfigText(text, { fileName });
const bytes = (...values: number[]) => Uint8Array.from(values);
const zeros = (n: number) => new Uint8Array(n);
const ones = (n: number) => new Uint8Array(n).fill(255);

Deno.test("no restrict lines give no rules, so nothing is restricted", () => {
  assert.deepEqual(toRestrictRules(load("server a.example.net\n")), []);
});

Deno.test("restrict default without -4/-6 applies to both families with an all-zero mask", () => {
  assert.deepEqual(toRestrictRules(load("restrict default kod limited\n")), [
    { family: 4, network: zeros(4), mask: zeros(4), flags: ["kod", "limited"] },
    { family: 6, network: zeros(16), mask: zeros(16), flags: ["kod", "limited"] },
  ]);
});

Deno.test("restrict -4 default and restrict -6 default apply to one family each", () => {
  assert.deepEqual(toRestrictRules(load("restrict -4 default noquery\n")), [
    { family: 4, network: zeros(4), mask: zeros(4), flags: ["noquery"] },
  ]);
  assert.deepEqual(toRestrictRules(load("restrict -6 default noquery\n")), [
    { family: 6, network: zeros(16), mask: zeros(16), flags: ["noquery"] },
  ]);
});

Deno.test("a host address gets a full mask and a network its prefix mask, in file order", () => {
  const rules = toRestrictRules(load(
    "restrict 127.0.0.1\nrestrict ::1\nrestrict 192.168.7.9 mask 255.255.0.0 nomodify\n" +
      "restrict 2001:db8::/32 notrap nopeer\n",
  ));
  const v6Loopback = zeros(16);
  v6Loopback[15] = 1;
  const v6Mask32 = zeros(16);
  v6Mask32.set([255, 255, 255, 255]);
  const v6Net = zeros(16);
  v6Net.set([0x20, 0x01, 0x0d, 0xb8]);
  assert.deepEqual(rules, [
    { family: 4, network: bytes(127, 0, 0, 1), mask: ones(4), flags: [] },
    { family: 6, network: v6Loopback, mask: ones(16), flags: [] },
    { family: 4, network: bytes(192, 168, 0, 0), mask: bytes(255, 255, 0, 0), flags: ["nomodify"] },
    { family: 6, network: v6Net, mask: v6Mask32, flags: ["notrap", "nopeer"] },
  ]);
});

Deno.test("the same rules come from TOML with CIDR, mask and ipv4/ipv6 forms", () => {
  const fromConf = toRestrictRules(load(
    "restrict -4 default kod\nrestrict 10.0.0.0 mask 255.0.0.0 nomodify\n",
  ));
  const fromToml = toRestrictRules(load(
    '[[restrict]]\naddress = "default"\nipv4 = true\nflags = ["kod"]\n\n' +
      '[[restrict]]\naddress = "10.0.0.0/8"\nflags = ["nomodify"]\n',
    "t.toml",
  ));
  assert.deepEqual(fromToml, fromConf);
});

Deno.test("a non-contiguous mask is refused and says so", () => {
  assert.throws(
    () => load("restrict 10.0.0.0 mask 255.0.255.0\n"),
    /t\.conf:1:24: error: restrict mask: mask "255\.0\.255\.0" is not contiguous/,
  );
});

Deno.test("toRateLimitPolicy() maps discard average, minimum, burst and monitor", () => {
  assert.deepEqual(toRateLimitPolicy(load("")), {
    averageLog2: 3,
    minimumSeconds: 2,
    burstPackets: 16,
    tableEntries: 65536,
  });
  assert.deepEqual(
    toRateLimitPolicy(load("discard average 5 minimum 1 monitor 4096 burst 32\n")),
    { averageLog2: 5, minimumSeconds: 1, burstPackets: 32, tableEntries: 4096 },
  );
});

Deno.test("the [discard] defaults are the responder's own rate-limit defaults", () => {
  assert.deepEqual(toRateLimitPolicy(load("")), { ...defaultRateLimitPolicy });
});
