// Address syntax: host[:port], bracketed IPv6, CIDR networks and netmasks.
import assert from "node:assert/strict";
import {
  formatHostPort,
  parseHostPort,
  parseMask,
  parseNetwork,
} from "../../src/config/addresses.ts";

const hostPort = (text: string) => parseHostPort(text, { allowPortZero: false });

Deno.test("parseHostPort() reads names, IPv4, IPv6 and their port forms", () => {
  assert.deepEqual(hostPort("Clock.FMT.he.net."), {
    ok: true,
    value: { host: "clock.fmt.he.net", port: null, literalFamily: null },
  });
  assert.deepEqual(hostPort("time.example.com:1123"), {
    ok: true,
    value: { host: "time.example.com", port: 1123, literalFamily: null },
  });
  assert.deepEqual(hostPort("192.0.2.1:123"), {
    ok: true,
    value: { host: "192.0.2.1", port: 123, literalFamily: 4 },
  });
  assert.deepEqual(hostPort("2001:DB8:0::1"), {
    ok: true,
    value: { host: "2001:db8::1", port: null, literalFamily: 6 },
  });
  assert.deepEqual(hostPort("[2001:db8::1]:4123"), {
    ok: true,
    value: { host: "2001:db8::1", port: 4123, literalFamily: 6 },
  });
  assert.deepEqual(hostPort("[::]"), {
    ok: true,
    value: { host: "::", port: null, literalFamily: 6 },
  });
});

Deno.test("parseHostPort() rejects malformed addresses with a reason", () => {
  const reasons: [string, RegExp][] = [
    ["", /empty/],
    ["10.0.0.300", /not a valid IPv4 address/],
    ["127.1", /not a valid IPv4 address/],
    ["host:0", /port 0 is out of range 1\.\.65535/],
    ["host:99999", /out of range/],
    ["host:http", /not a number/],
    ["[192.0.2.1]:123", /only IPv6 addresses go in brackets/],
    ["2001:db8::1:99999:1:1:1:1", /not a valid IPv6 address/],
    ["fe80::1%eth0", /zone indexes/],
    ["bad_name.example", /not a valid host name/],
    ["-lead.example", /not a valid host name/],
    ["two words", /white space/],
    ["[::1", /\[IPv6\]:PORT/],
  ];
  for (const [text, reason] of reasons) {
    const parsed = hostPort(text);
    assert.equal(parsed.ok, false, text);
    if (!parsed.ok) assert.match(parsed.message, reason, text);
  }
  assert.equal(parseHostPort("0.0.0.0:0", { allowPortZero: true }).ok, true);
});

Deno.test("parseNetwork() gives hosts a full prefix, clears host bits and reports them", () => {
  assert.deepEqual(parseNetwork("127.0.0.1"), {
    ok: true,
    value: { family: 4, network: "127.0.0.1", prefixLength: 32, hostBitsSet: false },
  });
  assert.deepEqual(parseNetwork("10.1.2.3/8"), {
    ok: true,
    value: { family: 4, network: "10.0.0.0", prefixLength: 8, hostBitsSet: true },
  });
  assert.deepEqual(parseNetwork("2001:db8:ffff::/33"), {
    ok: true,
    value: { family: 6, network: "2001:db8:8000::", prefixLength: 33, hostBitsSet: true },
  });
  assert.deepEqual(parseNetwork("::/0"), {
    ok: true,
    value: { family: 6, network: "::", prefixLength: 0, hostBitsSet: false },
  });
});

Deno.test("parseNetwork() refuses bad prefixes, host names and IPv4-mapped addresses", () => {
  const reasons: [string, RegExp][] = [
    ["10.0.0.0/33", /prefix length "33" is out of range for IPv4 \(0\.\.32\)/],
    ["::/129", /out of range for IPv6 \(0\.\.128\)/],
    ["10.0.0.0/x", /prefix length "x"/],
    ["ntp.example.com", /host names are not supported yet/],
    ["::ffff:10.0.0.1", /write it as IPv4 \(10\.0\.0\.1\)/],
  ];
  for (const [text, reason] of reasons) {
    const parsed = parseNetwork(text);
    assert.equal(parsed.ok, false, text);
    if (!parsed.ok) assert.match(parsed.message, reason, text);
  }
});

Deno.test("parseMask() accepts contiguous masks of the right family only", () => {
  assert.deepEqual(parseMask("255.255.255.0", 4), { ok: true, value: 24 });
  assert.deepEqual(parseMask("0.0.0.0", 4), { ok: true, value: 0 });
  assert.deepEqual(parseMask("ffff:ffff::", 6), { ok: true, value: 32 });
  const noncontiguous = parseMask("255.0.255.0", 4);
  assert.equal(noncontiguous.ok, false);
  if (!noncontiguous.ok) assert.match(noncontiguous.message, /not contiguous/);
  const wrongFamily = parseMask("255.255.0.0", 6);
  assert.equal(wrongFamily.ok, false);
  if (!wrongFamily.ok) assert.match(wrongFamily.message, /is IPv4 but the address is IPv6/);
});

Deno.test("formatHostPort() brackets IPv6 only when a port follows", () => {
  assert.equal(formatHostPort("::", 123), "[::]:123");
  assert.equal(formatHostPort("::1", null), "::1");
  assert.equal(formatHostPort("192.0.2.1", 4123), "192.0.2.1:4123");
});
