// Tests of socket address encoding/decoding and listen address parsing.
import assert from "node:assert/strict";
import { isIpv4Mapped } from "../../src/core/address/ip_text.ts";
import {
  decodeSockaddr,
  encodeSockaddr,
  formatEndpoint,
  formatIp,
  isWildcard,
  parseIp,
} from "../../src/io/sockaddr.ts";

Deno.test("parseIp() reads IPv4 and IPv6 literals, with or without brackets", () => {
  assert.deepEqual(parseIp("127.0.0.1", 4), { family: 4, bytes: Uint8Array.of(127, 0, 0, 1) });
  const loopback6 = new Uint8Array(16);
  loopback6[15] = 1;
  assert.deepEqual(parseIp("::1", 6), { family: 6, bytes: loopback6 });
  assert.deepEqual(parseIp("[::1]", 6), { family: 6, bytes: loopback6 });
});

Deno.test("parseIp() rejects names and a family that does not match", () => {
  assert.throws(() => parseIp("localhost", 4), /Cannot parse listen address 'localhost'/);
  assert.throws(() => parseIp("::1", 4), /it is IPv6, not IPv4/);
  assert.throws(() => parseIp("10.0.0.1", 6), /it is IPv4, not IPv6/);
});

Deno.test("formatEndpoint() brackets IPv6 addresses", () => {
  assert.equal(formatEndpoint(parseIp("10.1.2.3", 4), 123), "10.1.2.3:123");
  assert.equal(formatEndpoint(parseIp("fe80::1", 6), 123), "[fe80::1]:123");
  assert.equal(formatIp(parseIp("::", 6)), "::");
});

Deno.test("encodeSockaddr() writes sockaddr_in with the family in host order and the port big-endian", () => {
  const buffer = new Uint8Array(32).fill(0xaa);
  const length = encodeSockaddr(buffer, 4, { ...parseIp("192.0.2.7", 4), port: 0x1234 });
  assert.equal(length, 16);
  assert.deepEqual(
    Array.from(buffer.subarray(4, 20)),
    [2, 0, 0x12, 0x34, 192, 0, 2, 7, 0, 0, 0, 0, 0, 0, 0, 0],
  );
  assert.equal(buffer[3], 0xaa, "bytes before the offset are untouched");
});

Deno.test("encodeSockaddr() and decodeSockaddr() round-trip IPv4 and IPv6", () => {
  for (const [text, family] of [["203.0.113.9", 4], ["2001:db8::42", 6]] as const) {
    const buffer = new Uint8Array(40);
    const length = encodeSockaddr(buffer, 8, { ...parseIp(text, family), port: 123 });
    assert.equal(length, family === 4 ? 16 : 28);
    const decoded = decodeSockaddr(buffer, 8);
    assert.deepEqual(decoded, { ...parseIp(text, family), port: 123 });
  }
});

Deno.test("decodeSockaddr() presents an IPv4-mapped IPv6 address as IPv4", () => {
  const buffer = new Uint8Array(28);
  encodeSockaddr(buffer, 0, { ...parseIp("::ffff:198.51.100.1", 6), port: 5000 });
  assert.deepEqual(decodeSockaddr(buffer, 0), {
    family: 4,
    bytes: Uint8Array.of(198, 51, 100, 1),
    port: 5000,
  });
});

Deno.test("isWildcard() and isIpv4Mapped() recognise their addresses only", () => {
  assert.ok(isWildcard(new Uint8Array(4)));
  assert.ok(!isWildcard(Uint8Array.of(0, 0, 0, 1)));
  assert.ok(isIpv4Mapped(parseIp("::ffff:1.2.3.4", 6).bytes));
  assert.ok(!isIpv4Mapped(parseIp("::102:304", 6).bytes)); // IPv4-compatible, not mapped
  assert.ok(!isIpv4Mapped(Uint8Array.of(1, 2, 3, 4)));
});
