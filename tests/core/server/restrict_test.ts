// Tests of restrict matching: default, host, mask/CIDR, both families, most specific wins, flag merging.
import assert from "node:assert/strict";
import {
  compileRestrict,
  flagsFromNames,
  lookupRestrict,
  namesFromFlags,
  RestrictBit,
} from "../../../src/core/server/restrict.ts";
import { clientAt, ruleFor } from "../_vectors.ts";

/** The seed ntp.conf: kod limited nomodify notrap nopeer noquery by default, localhost free. */
const seedRules = [
  ruleFor("default4", ["kod", "limited", "nomodify", "notrap", "nopeer", "noquery"]),
  ruleFor("default6", ["kod", "limited", "nomodify", "notrap", "nopeer", "noquery"]),
  ruleFor("127.0.0.1", []),
  ruleFor("::1", []),
];

function namesFor(rules: Parameters<typeof compileRestrict>[0], address: string): string[] {
  return namesFromFlags(lookupRestrict(compileRestrict(rules), clientAt(address)));
}

Deno.test("lookupRestrict() returns no restrictions when no rule matches", () => {
  assert.equal(lookupRestrict(compileRestrict([]), clientAt("192.0.2.1")), 0);
  assert.equal(
    lookupRestrict(compileRestrict([ruleFor("10.0.0.0/8", ["ignore"])]), clientAt("192.0.2.1")),
    0,
  );
  // IPv6 clients are not matched by IPv4 rules, and the reverse.
  assert.equal(
    lookupRestrict(compileRestrict([ruleFor("default4", ["ignore"])]), clientAt("2001:db8::1")),
    0,
  );
  assert.equal(
    lookupRestrict(compileRestrict([ruleFor("default6", ["ignore"])]), clientAt("192.0.2.1")),
    0,
  );
});

Deno.test("lookupRestrict() applies the seed configuration's defaults to remote clients", () => {
  assert.deepEqual(namesFor(seedRules, "192.0.2.1"), [
    "noquery",
    "nomodify",
    "notrap",
    "nopeer",
    "kod",
    "limited",
  ]);
  assert.deepEqual(namesFor(seedRules, "2001:db8::1"), [
    "noquery",
    "nomodify",
    "notrap",
    "nopeer",
    "kod",
    "limited",
  ]);
});

Deno.test("lookupRestrict() lets a host rule override the default for localhost", () => {
  assert.deepEqual(namesFor(seedRules, "127.0.0.1"), []);
  assert.deepEqual(namesFor(seedRules, "::1"), []);
  assert.deepEqual(namesFor(seedRules, "127.0.0.2"), [
    "noquery",
    "nomodify",
    "notrap",
    "nopeer",
    "kod",
    "limited",
  ]);
});

Deno.test("lookupRestrict() picks the longest matching mask whatever the rule order", () => {
  const rules = [
    ruleFor("10.1.2.3", ["noserve"]),
    ruleFor("default4", ["ignore"]),
    ruleFor("10.1.0.0/16", ["noquery"]),
    ruleFor("10.0.0.0/8", ["limited"]),
  ];
  for (const order of [rules, [...rules].reverse()]) {
    const compiled = compileRestrict(order);
    assert.equal(lookupRestrict(compiled, clientAt("10.1.2.3")), RestrictBit.noserve);
    assert.equal(lookupRestrict(compiled, clientAt("10.1.2.4")), RestrictBit.noquery);
    assert.equal(lookupRestrict(compiled, clientAt("10.2.0.1")), RestrictBit.limited);
    assert.equal(lookupRestrict(compiled, clientAt("11.0.0.1")), RestrictBit.ignore);
  }
});

Deno.test("lookupRestrict() matches IPv6 prefixes on every word of the address", () => {
  const rules = [
    ruleFor("default6", ["ignore"]),
    ruleFor("2001:db8::/32", ["noquery"]),
    ruleFor("2001:db8:0:1::/64", ["noserve"]),
    ruleFor("2001:db8:0:1::99", []),
  ];
  assert.deepEqual(namesFor(rules, "2001:db8:ffff::1"), ["noquery"]);
  assert.deepEqual(namesFor(rules, "2001:db8:0:1::1"), ["noserve"]);
  assert.deepEqual(namesFor(rules, "2001:db8:0:1::99"), []);
  assert.deepEqual(namesFor(rules, "2001:db8:0:1::98"), ["noserve"]);
  assert.deepEqual(namesFor(rules, "2001:db9::1"), ["ignore"]);
});

Deno.test("lookupRestrict() honours masks that end inside a byte", () => {
  const rules = [ruleFor("192.0.2.128/25", ["ignore"])];
  assert.equal(namesFor(rules, "192.0.2.127").length, 0);
  assert.deepEqual(namesFor(rules, "192.0.2.128"), ["ignore"]);
  assert.deepEqual(namesFor(rules, "192.0.2.255"), ["ignore"]);
});

Deno.test("compileRestrict() merges rules for the same network and mask as ntpd does", () => {
  const rules = [ruleFor("192.0.2.0/24", ["noquery"]), ruleFor("192.0.2.0/24", ["kod", "limited"])];
  assert.deepEqual(namesFor(rules, "192.0.2.1"), ["noquery", "kod", "limited"]);
});

Deno.test("compileRestrict() masks a network given with host bits set", () => {
  const rule = {
    family: 4 as const,
    network: new Uint8Array([10, 9, 9, 9]),
    mask: new Uint8Array([255, 0, 0, 0]),
    flags: ["ignore" as const],
  };
  assert.deepEqual(namesFor([rule], "10.1.1.1"), ["ignore"]);
});

Deno.test("compileRestrict() rejects a rule whose bytes do not fit its family", () => {
  const rule = {
    family: 6 as const,
    network: new Uint8Array(4),
    mask: new Uint8Array(4),
    flags: [],
  };
  assert.throws(() => compileRestrict([rule]), RangeError);
});

Deno.test("flagsFromNames() and namesFromFlags() are inverse", () => {
  const names = [
    "ignore",
    "noserve",
    "noquery",
    "nomodify",
    "notrap",
    "nopeer",
    "kod",
    "limited",
  ] as const;
  assert.deepEqual(namesFromFlags(flagsFromNames(names)), [...names]);
  assert.equal(flagsFromNames([]), 0);
});
