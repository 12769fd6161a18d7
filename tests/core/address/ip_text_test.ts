// IP text: RFC 4291 parsing, RFC 5952 output and netmasks; checked against vectors and, by property, against ipaddr.js.
import assert from "node:assert/strict";
import fc from "fast-check";
import ipaddr from "ipaddr.js";
import {
  formatIpAddress,
  parseIpAddress,
  parseIpv4,
  parseIpv6,
  prefixLengthOfMask,
} from "../../../src/core/address/ip_text.ts";
import { propertyRuns } from "../../support/property_runs.ts";

const hexBytes = (text: string) => Uint8Array.from(text.match(/../g)!.map((h) => parseInt(h, 16)));

Deno.test("parseIpv4() takes strict dotted quads only", () => {
  assert.deepEqual(parseIpv4("0.0.0.0"), new Uint8Array(4));
  assert.deepEqual(parseIpv4("255.255.255.255"), Uint8Array.of(255, 255, 255, 255));
  for (
    const bad of [
      "256.0.0.1",
      "1.2.3",
      "1.2.3.4.5",
      "01.2.3.4",
      "127.1",
      "0x7f.0.0.1",
      "",
      "1.2.3.",
      " 1.2.3.4",
      "1.2.3.-4",
    ]
  ) {
    assert.equal(parseIpv4(bad), null, bad);
  }
});

Deno.test("parseIpv6() reads the RFC 4291 section 2.2 forms", () => {
  const cases: [string, string][] = [
    ["2001:DB8:0:0:8:800:200C:417A", "20010db8000000000008080020 0c417a".replace(" ", "")],
    ["FF01::101", "ff010000000000000000000000000101"],
    ["::1", "00000000000000000000000000000001"],
    ["::", "00000000000000000000000000000000"],
    ["1::", "00010000000000000000000000000000"],
    ["::13.1.68.3", "0000000000000000000000000d014403"],
    ["::FFFF:129.144.52.38", "00000000000000000000ffff81903426"],
    ["0:0:0:0:0:0:13.1.68.3", "0000000000000000000000000d014403"],
    ["1:2:3:4:5:6:7::", "00010002000300040005000600070000"],
    ["::2:3:4:5:6:7:8", "00000002000300040005000600070008"],
  ];
  for (const [text, hex] of cases) assert.deepEqual(parseIpv6(text), hexBytes(hex), text);
  for (
    const bad of [
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7",
      "12345::",
      "::g",
      ":1::",
      "1:::2",
      "fe80::1%eth0",
      "[::1]",
      "::1.2.3",
      "1:2:3:4:5:6:7::8",
      "::ffff:1.2.3.04",
      "",
    ]
  ) {
    assert.equal(parseIpv6(bad), null, bad);
  }
});

Deno.test("formatIpAddress() writes RFC 5952 section 4 forms", () => {
  const cases: [string, string][] = [
    ["2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"],
    ["2001:db8:0:0:0:0:2:1", "2001:db8::2:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["2001:DB8::AB", "2001:db8::ab"],
  ];
  for (const [text, canonical] of cases) {
    assert.equal(formatIpAddress(parseIpv6(text)!), canonical, text);
  }
  assert.equal(formatIpAddress(Uint8Array.of(10, 0, 0, 255)), "10.0.0.255");
  assert.throws(() => formatIpAddress(new Uint8Array(5)), RangeError);
});

Deno.test("prefixLengthOfMask() accepts leading ones only", () => {
  assert.equal(prefixLengthOfMask(Uint8Array.of(255, 255, 255, 0)), 24);
  assert.equal(prefixLengthOfMask(Uint8Array.of(255, 255, 255, 255)), 32);
  assert.equal(prefixLengthOfMask(new Uint8Array(16)), 0);
  assert.equal(prefixLengthOfMask(parseIpv6("ffff:ffff:ffff:ffff:8000::")!), 65);
  assert.equal(prefixLengthOfMask(Uint8Array.of(255, 0, 255, 0)), null);
  assert.equal(prefixLengthOfMask(Uint8Array.of(254, 1, 0, 0)), null);
});

/** Addresses with many zero groups, so compression choices get exercised. */
const ipv6Bytes = fc.array(
  fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })),
  {
    minLength: 8,
    maxLength: 8,
  },
).map((groups) => {
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
});

Deno.test("formatIpAddress() agrees with ipaddr.js and parses back to the same bytes", () => {
  fc.assert(
    fc.property(ipv6Bytes, (bytes) => {
      const text = formatIpAddress(bytes);
      assert.equal(text, ipaddr.fromByteArray([...bytes]).toString());
      assert.equal(text, (ipaddr.fromByteArray([...bytes]) as ipaddr.IPv6).toRFC5952String());
      assert.deepEqual(parseIpv6(text), bytes);
    }),
    { numRuns: propertyRuns(2000) },
  );
  fc.assert(fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (bytes) => {
    assert.equal(formatIpAddress(bytes), ipaddr.fromByteArray([...bytes]).toString());
    assert.deepEqual(parseIpAddress(formatIpAddress(bytes)), { family: 4, bytes });
  }));
});

Deno.test("parseIpv6() accepts exactly what ipaddr.js accepts, on uncompressed, compressed and mixed texts", () => {
  const writings = ipv6Bytes.chain((bytes) =>
    fc.record({
      bytes: fc.constant(bytes),
      style: fc.constantFrom("full", "padded", "canonical", "upper", "mixed"),
    })
  ).map(({ bytes, style }) => {
    const groups = [...Array(8).keys()].map((i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
    switch (style) {
      case "full":
        return groups.map((g) => g.toString(16)).join(":");
      case "padded":
        return groups.map((g) => g.toString(16).padStart(4, "0")).join(":");
      case "upper":
        return formatIpAddress(bytes).toUpperCase();
      case "mixed":
        return `${groups.slice(0, 6).map((g) => g.toString(16)).join(":")}:${
          bytes.slice(12).join(".")
        }`;
      default:
        return formatIpAddress(bytes);
    }
  });
  fc.assert(
    fc.property(writings, (text) => {
      assert.ok(ipaddr.IPv6.isValid(text), text);
      assert.deepEqual(
        parseIpv6(text),
        Uint8Array.from(ipaddr.IPv6.parse(text).toByteArray()),
        text,
      );
    }),
    { numRuns: propertyRuns(2000) },
  );
  // Random texts of address characters: where we accept, ipaddr.js reads the same bytes; without
  // a dotted quad (ipaddr.js is laxer there: leading zeros), we refuse what it refuses.
  const junk = fc.stringMatching(/^[0-9a-fA-F:.]{0,24}$/);
  fc.assert(
    fc.property(junk, (text) => {
      const ours = parseIpv6(text);
      if (ours !== null) {
        assert.deepEqual(ours, Uint8Array.from(ipaddr.IPv6.parse(text).toByteArray()), text);
      } else if (!text.includes(".")) {
        assert.equal(ipaddr.IPv6.isValid(text), false, `ipaddr.js accepts ${text}, we do not`);
      }
    }),
    { numRuns: propertyRuns(5000) },
  );
});
