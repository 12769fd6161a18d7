// sourceKey(), operatorOf() and refidText(): what a server's time rests on, for the diversity preference.
import assert from "node:assert/strict";
import { operatorOf, refidText, sourceKey } from "../../src/core/pick/source_key.ts";
import { refidFromAscii } from "../../src/core/packet/refid.ts";

Deno.test("operatorOf() takes the registrable domain of a name, the /24 or /48 of an address", () => {
  assert.equal(operatorOf("time-a-g.nist.gov"), "nist.gov");
  assert.equal(operatorOf("ntp1.npl.co.uk"), "npl.co.uk");
  assert.equal(operatorOf("ptbtime1.ptb.de"), "ptb.de");
  assert.equal(operatorOf("ntp.nict.jp"), "nict.jp");
  assert.equal(operatorOf("192.0.2.77"), "192.0.2.0/24");
  assert.equal(operatorOf("2001:db8:1:2::7"), "2001:db8:1::/48");
  assert.equal(operatorOf("::1"), "0:0:0::/48");
});

Deno.test("sourceKey() is the refid above stratum 1 and the clock kind at an operator at stratum 1", () => {
  const gps = refidFromAscii("GPS");
  assert.equal(
    sourceKey({ host: "a.one.example", stratum: 1, referenceId: gps }),
    ".GPS.@one.example",
  );
  assert.equal(
    sourceKey({ host: "b.one.example", stratum: 1, referenceId: gps }),
    sourceKey({ host: "a.one.example", stratum: 1, referenceId: gps }),
  );
  assert.notEqual(
    sourceKey({ host: "a.two.example", stratum: 1, referenceId: gps }),
    sourceKey({ host: "a.one.example", stratum: 1, referenceId: gps }),
  );
  assert.equal(sourceKey({ host: "x.example", stratum: 2, referenceId: 0xc0000207 }), "192.0.2.7");
  assert.equal(sourceKey({ host: "y.other", stratum: 3, referenceId: 0xc0000207 }), "192.0.2.7");
});

Deno.test("refidText() shows an unprintable stratum 1 refid (chronyd's local clock) as a dotted quad", () => {
  assert.equal(refidText(0x7f7f0101, 1), "127.127.1.1");
  assert.equal(refidText(refidFromAscii("GPS"), 1), ".GPS.");
  assert.equal(refidText(0x0a000001, 2), "10.0.0.1");
});
