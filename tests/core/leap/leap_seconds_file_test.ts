// leap-seconds.list as tzdata ships it: read, hash checked, damage refused with its line; the status at moments around a leap.
import assert from "node:assert/strict";
import fc from "fast-check";
import { createHash } from "node:crypto";
import {
  NTP_UNIX_OFFSET_SECONDS,
  readLeapSecondsFile,
} from "../../../src/core/leap/leap_seconds_file.ts";
import { leapStatusAt, ntpdLeapTime } from "../../../src/core/leap/leap_status.ts";
import { sha1 } from "../../../src/core/leap/sha1.ts";
import { propertyRuns } from "../../support/property_runs.ts";

const tzdata = await Deno.readTextFile(
  new URL("../../testdata/leap/tzdata-2025b-leap-seconds.list", import.meta.url),
);
const unix = (year: number, month: number, day: number, h = 0, m = 0, s = 0) =>
  Date.UTC(year, month - 1, day, h, m, s) / 1000;
const ntp = (unixSeconds: number) => unixSeconds + NTP_UNIX_OFFSET_SECONDS;

Deno.test("sha1() matches node:crypto for the FIPS 180 vector and random inputs of every padding case", () => {
  const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  assert.equal(
    hex(sha1(new TextEncoder().encode("abc"))),
    "a9993e364706816aba3e25717850c26c9cd0d89d",
  );
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300 }),
      (data) => hex(sha1(data)) === createHash("sha1").update(data).digest("hex"),
    ),
    { numRuns: propertyRuns(300) },
  );
});

Deno.test("tzdata 2025b's file reads: 28 entries from 10 to 37 s, the hash matches, it expires on 2026-06-28", () => {
  const reading = readLeapSecondsFile(tzdata);
  assert.ok(reading.ok, JSON.stringify(reading));
  if (!reading.ok) return;
  assert.deepEqual(reading.warnings, []);
  const { entries } = reading.table;
  assert.equal(entries.length, 28);
  assert.equal(entries[0]!.taiOffsetSeconds, 10);
  assert.equal(entries.at(-1)!.taiOffsetSeconds, 37);
  assert.equal(entries.at(-1)!.ntpSeconds, ntp(unix(2017, 1, 1)));
  assert.equal(reading.table.expiresNtpSeconds, ntp(unix(2026, 6, 28)));
  const now = leapStatusAt(reading.table, unix(2026, 12, 6));
  assert.equal(now.taiOffsetSeconds, 37);
  assert.equal(now.next, null);
  assert.equal(now.announcement, 0);
  assert.equal(now.expired, true);
  assert.equal(ntpdLeapTime(now.lastLeapUnixSeconds), "201701010000");
  assert.equal(ntpdLeapTime(now.expiresUnixSeconds), "202606280000");
  const before = leapStatusAt(reading.table, unix(2016, 12, 31, 12));
  assert.equal(before.taiOffsetSeconds, 36);
  assert.deepEqual(before.next, { unixSeconds: unix(2017, 1, 1), kind: "insert" });
  assert.equal(before.announcement, 1);
  assert.equal(before.expired, false);
});

Deno.test("a leap is announced from 24 h before it until it happens, then TAI-UTC moves on; a deletion announces 2", () => {
  const text = (lines: string[]) => lines.join("\n") + "\n";
  const leap = unix(2027, 7, 1);
  const reading = readLeapSecondsFile(text([
    `#@ ${ntp(unix(2028, 1, 1))}`,
    `${ntp(unix(2017, 1, 1))} 37`,
    `${ntp(leap)} 38`,
    `${ntp(unix(2028, 1, 1))} 37`,
  ]));
  assert.ok(reading.ok, JSON.stringify(reading));
  if (!reading.ok) return;
  assert.equal(reading.warnings.length, 1, "no #h line: a warning");
  const at = (t: number) => leapStatusAt(reading.table, t);
  assert.equal(at(leap - 86_401).announcement, 0);
  assert.equal(at(leap - 86_400).announcement, 1);
  assert.equal(at(leap - 1).announcement, 1);
  assert.equal(at(leap - 1).taiOffsetSeconds, 37);
  assert.equal(at(leap).announcement, 0);
  assert.equal(at(leap).taiOffsetSeconds, 38);
  assert.deepEqual(at(leap).next, { unixSeconds: unix(2028, 1, 1), kind: "delete" });
  assert.equal(at(unix(2027, 12, 31, 0, 0, 1)).announcement, 2);
});

Deno.test("damaged files are refused with the line: a changed digit (hash), times out of order, a jump of two seconds, a leap mid-month, no expiry", () => {
  // The last update time moved by a second: only the hash can tell.
  const edited = tzdata.replace(/^#\$(\s+)3960835200/m, "#$$$13960835201");
  assert.notEqual(edited, tzdata);
  const cases: [string, RegExp][] = [
    [edited, /the #h hash does not match/],
    [
      tzdata.replace(/^3644697600\s+36.*$/m, "3699999999\t36"),
      /not after line|not 00:00:00 UTC/,
    ],
    [
      `#@ ${ntp(unix(2028, 1, 1))}\n${ntp(unix(2017, 1, 1))} 37\n${ntp(unix(2027, 7, 1))} 39\n`,
      /changes it by one/,
    ],
    [
      `#@ ${ntp(unix(2028, 1, 1))}\n${ntp(unix(2017, 1, 15))} 37\n`,
      /not 00:00:00 UTC on the first day/,
    ],
    [`${ntp(unix(2017, 1, 1))} 37\n`, /no #@ expiry/],
    [`#@ 99999999999999999\n${ntp(unix(2017, 1, 1))} 37\n`, /before 2200/],
    [`#@ ${ntp(unix(2028, 1, 1))}\n99999999999999999 37\n`, /out of range/],
    [`#@ ${ntp(unix(2028, 1, 1))}\n${ntp(unix(2017, 1, 1))} 37 extra\n`, /two whole numbers/],
  ];
  for (const [text, message] of cases) {
    const reading = readLeapSecondsFile(text);
    assert.equal(reading.ok, false, String(message));
    if (reading.ok) continue;
    assert.ok(
      reading.problems.some((p) => message.test(p.message)),
      JSON.stringify(reading.problems),
    );
    assert.ok(reading.problems.every((p) => p.line >= 1));
  }
  const hashLine = tzdata.split("\n").findIndex((l) => l.startsWith("#h")) + 1;
  const damaged = readLeapSecondsFile(edited);
  assert.equal(!damaged.ok && damaged.problems[0]!.line, hashLine, "the #h line is named");
});

Deno.test("property: any text either reads or yields problems with lines, never throws", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 400 }), (text) => {
      const reading = readLeapSecondsFile(text);
      return reading.ok || reading.problems.length > 0;
    }),
    { numRuns: propertyRuns(500) },
  );
  // Mutations of the real file: one character changed never passes unnoticed unless in a comment.
  fc.assert(
    fc.property(fc.nat({ max: tzdata.length - 1 }), fc.constantFrom("0", "9", " ", "x"), (i, c) => {
      const mutated = tzdata.slice(0, i) + c + tzdata.slice(i + 1);
      const line = tzdata.slice(0, i).split("\n").length;
      const original = tzdata.split("\n")[line - 1]!;
      const reading = readLeapSecondsFile(mutated);
      if (mutated === tzdata || (original.startsWith("#") && !/^#[$@h]/.test(original))) {
        return true;
      }
      if (original.includes("#") && i - tzdata.lastIndexOf("\n", i - 1) > original.indexOf("#")) {
        return true; // inside a data line's comment
      }
      // Whitespace for whitespace keeps the digits (and the hash); a joined line is another case.
      if (/\s/.test(tzdata[i]!) && (c === " " || tzdata[i] === "\n")) return true;
      return !reading.ok;
    }),
    { numRuns: propertyRuns(400) },
  );
});
