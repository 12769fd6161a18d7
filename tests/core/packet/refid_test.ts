// Tests of reference ID helpers: IPv4, IPv6 (MD5, checked against Python hashlib), ASCII codes and ntpq text.
import assert from "node:assert/strict";
import {
  formatRefid,
  refidFromAddress,
  refidFromAscii,
  refidFromIPv4,
  refidFromIPv6,
  refidToAscii,
  refidToDottedQuad,
} from "../../../src/core/packet/refid.ts";
import { addressBytes } from "../_vectors.ts";

Deno.test("refidFromIPv4() gives the refid ntpd sent for its upstream 10.123.0.1", () => {
  assert.equal(refidFromIPv4(addressBytes("10.123.0.1")), 0x0a7b0001);
  assert.equal(refidFromIPv4(addressBytes("255.255.255.255")), 0xffffffff);
});

Deno.test("refidFromIPv6() is the first four bytes of the MD5 of the address", () => {
  // hashlib.md5(ipaddress.IPv6Address(a).packed).hexdigest()[:8]
  assert.equal(refidFromIPv6(addressBytes("::1")), 0xcf404dc8);
  assert.equal(refidFromIPv6(addressBytes("2001:db8::1")), 0x39ab9b37);
  assert.equal(refidFromIPv6(addressBytes("fe80::1")), 0x89e5301f);
});

Deno.test("refidFromAddress() picks the form by address length", () => {
  assert.equal(refidFromAddress(addressBytes("127.0.0.1")), 0x7f000001);
  assert.equal(refidFromAddress(addressBytes("::1")), 0xcf404dc8);
  assert.throws(() => refidFromAddress(new Uint8Array(5)), RangeError);
});

Deno.test("refidFromAscii() left-justifies and NUL-pads codes", () => {
  assert.equal(refidFromAscii("INIT"), 0x494e4954);
  assert.equal(refidFromAscii("RATE"), 0x52415445);
  assert.equal(refidFromAscii("GPS"), 0x47505300);
  assert.equal(refidFromAscii("LOCL"), 0x4c4f434c);
  assert.throws(() => refidFromAscii(""), RangeError);
  assert.throws(() => refidFromAscii("TOOLONG"), RangeError);
  assert.throws(() => refidFromAscii("A\u0001"), RangeError);
});

Deno.test("refidToAscii() stops at the first NUL and masks unprintable bytes", () => {
  assert.equal(refidToAscii(0x47505300), "GPS");
  assert.equal(refidToAscii(refidFromAscii("DENY")), "DENY");
  assert.equal(refidToAscii(0x41ff4200), "A?B");
  assert.equal(refidToAscii(0), "");
});

Deno.test("formatRefid() shows codes between dots for stratum 0, 1 and 16, addresses otherwise", () => {
  assert.equal(formatRefid(refidFromAscii("INIT"), 16), ".INIT.");
  assert.equal(formatRefid(refidFromAscii("GPS"), 1), ".GPS.");
  assert.equal(formatRefid(refidFromAscii("RATE"), 0), ".RATE.");
  assert.equal(formatRefid(0x0a7b0001, 3), "10.123.0.1");
  assert.equal(formatRefid(0x7f7f0101, 2), "127.127.1.1");
  assert.equal(refidToDottedQuad(0xcf404dc8), "207.64.77.200");
});
