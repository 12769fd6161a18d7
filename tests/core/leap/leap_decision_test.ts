// Which leap to announce: a valid file decides alone; without one, the upstreams' majority counts only on June 30 and December 31.
import assert from "node:assert/strict";
import fc from "fast-check";
import { decideLeap } from "../../../src/core/leap/leap_decision.ts";
import {
  NTP_UNIX_OFFSET_SECONDS,
  readLeapSecondsFile,
} from "../../../src/core/leap/leap_seconds_file.ts";
import { leapStatusAt } from "../../../src/core/leap/leap_status.ts";
import { propertyRuns } from "../../support/property_runs.ts";

const unix = (y: number, m: number, d: number, h = 12) => Date.UTC(y, m - 1, d, h) / 1000;
const ntp = (u: number) => u + NTP_UNIX_OFFSET_SECONDS;

Deno.test("without a file: the upstreams' vote counts on June 30 and December 31 only", () => {
  assert.deepEqual(decideLeap({ voted: 1, unixSeconds: unix(2027, 6, 30), file: null }), {
    announcement: 1,
    source: "upstreams",
    ignored: null,
  });
  assert.equal(
    decideLeap({ voted: 2, unixSeconds: unix(2027, 12, 31, 23), file: null }).announcement,
    2,
  );
  const midMonth = decideLeap({ voted: 1, unixSeconds: unix(2027, 6, 15), file: null });
  assert.equal(midMonth.announcement, 0);
  assert.match(midMonth.ignored ?? "", /on 2027-06-15, not the last day of June or December/);
  assert.equal(
    decideLeap({ voted: 1, unixSeconds: unix(2027, 7, 1, 0), file: null }).announcement,
    0,
  );
  assert.equal(
    decideLeap({ voted: 1, unixSeconds: unix(2027, 3, 31), file: null }).announcement,
    0,
  );
  assert.deepEqual(decideLeap({ voted: 0, unixSeconds: unix(2027, 6, 30), file: null }), {
    announcement: 0,
    source: "none",
    ignored: null,
  });
});

Deno.test("a valid file wins over the upstreams both ways; an expired one leaves it to them", () => {
  const reading = readLeapSecondsFile(
    [
      `#@ ${ntp(unix(2028, 1, 1, 0))}`,
      `${ntp(unix(2017, 1, 1, 0))} 37`,
      `${ntp(unix(2027, 7, 1, 0))} 38`,
    ]
      .join("\n"),
  );
  assert.ok(reading.ok);
  if (!reading.ok) return;
  const at = (u: number) => leapStatusAt(reading.table, u);
  // The file announces 2027-06-30; upstreams that do not are overruled.
  const fileOnly = decideLeap({
    voted: 0,
    unixSeconds: unix(2027, 6, 30),
    file: at(unix(2027, 6, 30)),
  });
  assert.deepEqual(fileOnly, { announcement: 1, source: "file", ignored: null });
  // Upstreams announcing on 2027-12-31, a leap the file does not have: ignored, said why.
  const overruled = decideLeap({
    voted: 1,
    unixSeconds: unix(2027, 12, 31),
    file: at(unix(2027, 12, 31)),
  });
  assert.equal(overruled.announcement, 0);
  assert.match(overruled.ignored ?? "", /the leap-seconds file does not/);
  // Expired (past 2028-01-01): the vote is taken again, on the right day.
  const expired = decideLeap({
    voted: 1,
    unixSeconds: unix(2028, 6, 30),
    file: at(unix(2028, 6, 30)),
  });
  assert.deepEqual(expired, { announcement: 1, source: "upstreams", ignored: null });
});

Deno.test("property: without a valid file, an announcement is only ever made on June 30 or December 31 UTC", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 4_102_444_800 }),
      fc.constantFrom<0 | 1 | 2>(0, 1, 2),
      (unixSeconds, voted) => {
        const { announcement } = decideLeap({ voted, unixSeconds, file: null });
        if (announcement === 0) return true;
        const d = new Date(unixSeconds * 1000);
        return (d.getUTCMonth() === 5 && d.getUTCDate() === 30) ||
          (d.getUTCMonth() === 11 && d.getUTCDate() === 31);
      },
    ),
    { numRuns: propertyRuns(2000) },
  );
});
