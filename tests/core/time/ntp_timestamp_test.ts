// Tests of NTP timestamps: captured vectors, the 2036 era rollover, era choice, wire I/O and differences.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  isZeroTimestamp,
  ntpDiffSeconds,
  ntpFromUnix,
  readTimestamp,
  timestampsEqual,
  unixFromNtp,
  writeTimestamp,
  writeUnixAsNtp,
  ZERO_TIMESTAMP,
} from "../../../src/core/time/ntp_timestamp.ts";
import { propertyRuns } from "../../support/property_runs.ts";

const ERA_1_START_UNIX = 2_085_978_496; // 2036-02-07T06:28:16Z
const YEAR_2040_UNIX = 2_208_988_800; // 2040-01-01T00:00:00Z
const YEAR_2035_UNIX = 2_051_222_400; // 2035-01-01T00:00:00Z
const CAPTURE_UNIX = 1_795_860_832; // 2026-11-28T10:13:52Z, from the ntpd capture

function bytesOf(seconds: number, nanoseconds: number): string {
  const bytes = new Uint8Array(8);
  writeUnixAsNtp(new DataView(bytes.buffer), 0, seconds, nanoseconds);
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("unixFromNtp() decodes the captured ntpdig transmit time as tshark does", () => {
  // tshark: "Transmit Timestamp: Nov 28, 2026 10:13:52.764678001 UTC" for eeb527e0.c3c1f000
  const unix = unixFromNtp({ seconds: 0xeeb527e0, fraction: 0xc3c1f000 }, CAPTURE_UNIX);
  assert.deepEqual(unix, { unixSeconds: CAPTURE_UNIX, nanoseconds: 764_678_001 });
});

Deno.test("unixFromNtp() rounds to the nearest nanosecond where tshark truncates", () => {
  // ntpd's reference time eeb527d1.86e0d926 is 10:13:37.5268684118 (tshark shows ...411).
  const unix = unixFromNtp({ seconds: 0xeeb527d1, fraction: 0x86e0d926 }, CAPTURE_UNIX);
  assert.deepEqual(unix, { unixSeconds: 1_795_860_817, nanoseconds: 526_868_412 });
});

Deno.test("ntpFromUnix() of a captured time lands within one nanosecond of the captured fraction", () => {
  const ts = ntpFromUnix(CAPTURE_UNIX, 764_678_001);
  assert.equal(ts.seconds, 0xeeb527e0);
  assert.ok(Math.abs(ts.fraction - 0xc3c1f000) <= 4.3, `fraction ${ts.fraction.toString(16)}`);
});

Deno.test("ntpFromUnix() maps the Unix epoch to NTP second 2208988800", () => {
  assert.deepEqual(ntpFromUnix(0, 0), { seconds: 2_208_988_800, fraction: 0 });
  assert.deepEqual(ntpFromUnix(0, 500_000_000), { seconds: 2_208_988_800, fraction: 0x80000000 });
});

Deno.test("ntpFromUnix() wraps at 2036-02-07T06:28:16Z into era 1", () => {
  assert.deepEqual(ntpFromUnix(ERA_1_START_UNIX - 1, 0), { seconds: 0xffffffff, fraction: 0 });
  assert.deepEqual(ntpFromUnix(ERA_1_START_UNIX, 0), { seconds: 0, fraction: 0 });
  assert.deepEqual(ntpFromUnix(ERA_1_START_UNIX + 1, 0), { seconds: 1, fraction: 0 });
  assert.deepEqual(ntpFromUnix(ERA_1_START_UNIX - 1, 999_999_999), {
    seconds: 0xffffffff,
    fraction: 0xfffffffc,
  });
});

Deno.test("ntpFromUnix() carries a fraction that rounds up to a whole second across the era boundary", () => {
  // 999999999.9 ns rounds to 2^32 fraction units: the second must carry into era 1.
  assert.deepEqual(ntpFromUnix(ERA_1_START_UNIX - 1, 999_999_999.9), { seconds: 0, fraction: 0 });
});

Deno.test("unixFromNtp() maps the 2036 rollover seconds back with a pivot on either side", () => {
  for (const pivot of [YEAR_2035_UNIX, ERA_1_START_UNIX, YEAR_2040_UNIX]) {
    assert.equal(
      unixFromNtp({ seconds: 0xffffffff, fraction: 0 }, pivot).unixSeconds,
      ERA_1_START_UNIX - 1,
    );
    assert.equal(unixFromNtp({ seconds: 0, fraction: 0 }, pivot).unixSeconds, ERA_1_START_UNIX);
    assert.equal(unixFromNtp({ seconds: 1, fraction: 0 }, pivot).unixSeconds, ERA_1_START_UNIX + 1);
  }
});

Deno.test("unixFromNtp() reads a 2040 timestamp as 2040 when the pivot is in 2035", () => {
  const ts = ntpFromUnix(YEAR_2040_UNIX, 123_456_789);
  assert.equal(ts.seconds, 123_010_304); // era 1
  assert.deepEqual(unixFromNtp(ts, YEAR_2035_UNIX), {
    unixSeconds: YEAR_2040_UNIX,
    nanoseconds: 123_456_789,
  });
});

Deno.test("unixFromNtp() reads a 2035 timestamp as 2035 when the pivot is in 2040", () => {
  const ts = ntpFromUnix(YEAR_2035_UNIX, 0);
  assert.deepEqual(unixFromNtp(ts, YEAR_2040_UNIX), {
    unixSeconds: YEAR_2035_UNIX,
    nanoseconds: 0,
  });
});

Deno.test("unixFromNtp() picks the era closest to the pivot, even for 1970 seen from 2040", () => {
  // 1970 is more than 68 years before 2040, so the nearest reading is 2106 (era 1).
  const ts = ntpFromUnix(0, 0);
  assert.equal(unixFromNtp(ts, CAPTURE_UNIX).unixSeconds, 0);
  assert.equal(unixFromNtp(ts, YEAR_2040_UNIX).unixSeconds, 2 ** 32);
});

Deno.test("unixFromNtp() carries a fraction that rounds to 1e9 ns into the next second", () => {
  assert.deepEqual(unixFromNtp({ seconds: 0xffffffff, fraction: 0xffffffff }, YEAR_2035_UNIX), {
    unixSeconds: ERA_1_START_UNIX,
    nanoseconds: 0,
  });
});

Deno.test("ntpFromUnix() then unixFromNtp() returns the same instant within 68 years of the pivot", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: -2_208_988_800, max: 6_000_000_000 }),
      fc.integer({ min: 0, max: 999_999_999 }),
      fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 }),
      (unixSeconds, nanoseconds, pivotDistance) => {
        const ts = ntpFromUnix(unixSeconds, nanoseconds);
        assert.ok(Number.isInteger(ts.seconds) && ts.seconds >= 0 && ts.seconds < 2 ** 32);
        assert.ok(Number.isInteger(ts.fraction) && ts.fraction >= 0 && ts.fraction < 2 ** 32);
        assert.deepEqual(unixFromNtp(ts, unixSeconds + pivotDistance), {
          unixSeconds,
          nanoseconds,
        });
      },
    ),
    { numRuns: propertyRuns(2000) },
  );
});

Deno.test("writeUnixAsNtp() writes the same bytes as ntpFromUnix() plus writeTimestamp()", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: -2_208_988_800, max: 6_000_000_000 }),
      fc.double({ min: 0, max: 999_999_999.99, noNaN: true }),
      (unixSeconds, nanoseconds) => {
        const viaObject = new Uint8Array(8);
        writeTimestamp(new DataView(viaObject.buffer), 0, ntpFromUnix(unixSeconds, nanoseconds));
        const direct = new Uint8Array(8);
        writeUnixAsNtp(new DataView(direct.buffer), 0, unixSeconds, nanoseconds);
        assert.deepEqual(direct, viaObject);
      },
    ),
    { numRuns: propertyRuns(2000) },
  );
});

Deno.test("writeUnixAsNtp() writes the captured ntpd transmit time bytes", () => {
  // ntpd sent eeb527e0.c3cf61f9 = 10:13:52.764883158(96) UTC.
  assert.equal(bytesOf(CAPTURE_UNIX, 764_883_158.961311), "eeb527e0c3cf61f9");
  assert.equal(bytesOf(ERA_1_START_UNIX, 0), "0000000000000000");
});

Deno.test("writeUnixAsNtp() folds a fractional Unix second into the fraction", () => {
  assert.equal(bytesOf(0.5, 0), bytesOf(0, 500_000_000));
  assert.equal(bytesOf(10, 1_500_000_000), bytesOf(11, 500_000_000));
});

Deno.test("readTimestamp() and writeTimestamp() are big-endian and inverse", () => {
  const bytes = new Uint8Array(12);
  const view = new DataView(bytes.buffer);
  writeTimestamp(view, 2, { seconds: 0xeeb527e0, fraction: 0xc3c1f000 });
  assert.deepEqual([...bytes.subarray(2, 10)], [0xee, 0xb5, 0x27, 0xe0, 0xc3, 0xc1, 0xf0, 0x00]);
  assert.deepEqual(readTimestamp(view, 2), { seconds: 0xeeb527e0, fraction: 0xc3c1f000 });
});

Deno.test("isZeroTimestamp() is true only for the all-zero timestamp", () => {
  assert.equal(isZeroTimestamp(ZERO_TIMESTAMP), true);
  assert.equal(isZeroTimestamp({ seconds: 0, fraction: 1 }), false);
  assert.equal(isZeroTimestamp({ seconds: 1, fraction: 0 }), false);
});

Deno.test("timestampsEqual() compares both fields", () => {
  assert.equal(timestampsEqual({ seconds: 1, fraction: 2 }, { seconds: 1, fraction: 2 }), true);
  assert.equal(timestampsEqual({ seconds: 1, fraction: 2 }, { seconds: 1, fraction: 3 }), false);
});

Deno.test("ntpDiffSeconds() gives the captured ntpd turnaround time", () => {
  const receive = { seconds: 0xeeb527e0, fraction: 0xc3c88bfe };
  const transmit = { seconds: 0xeeb527e0, fraction: 0xc3cf61f9 };
  const turnaroundSeconds = ntpDiffSeconds(transmit, receive);
  assert.ok(Math.abs(turnaroundSeconds - 0.000104307) < 1e-9, `${turnaroundSeconds}`);
  assert.ok(Math.abs(ntpDiffSeconds(receive, transmit) + 0.000104307) < 1e-9);
});

Deno.test("ntpDiffSeconds() is correct across the 2036 era boundary", () => {
  const before = ntpFromUnix(ERA_1_START_UNIX - 1, 250_000_000);
  const after = ntpFromUnix(ERA_1_START_UNIX + 2, 0);
  assert.equal(ntpDiffSeconds(after, before), 2.75);
  assert.equal(ntpDiffSeconds(before, after), -2.75);
});

Deno.test("ntpDiffSeconds() matches the Unix difference for instants less than 68 years apart", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 5_000_000_000 }),
      fc.integer({ min: -(2 ** 31) + 2, max: 2 ** 31 - 2 }),
      fc.integer({ min: 0, max: 999_999_999 }),
      fc.integer({ min: 0, max: 999_999_999 }),
      (unixA, deltaSeconds, nsA, nsB) => {
        const a = ntpFromUnix(unixA, nsA);
        const b = ntpFromUnix(unixA - deltaSeconds, nsB);
        const expected = deltaSeconds + (nsA - nsB) / 1e9;
        assert.ok(Math.abs(ntpDiffSeconds(a, b) - expected) < 1e-6);
      },
    ),
    { numRuns: propertyRuns(2000) },
  );
});
