// Tests of the periodic log reports: their text (pure) and the timer that writes them.
import assert from "node:assert/strict";
import {
  counterDelta,
  formatFrequencyReport,
  formatSpan,
  formatTrafficSummary,
} from "../../src/daemon/report_lines.ts";
import { startPeriodicReports } from "../../src/daemon/periodic_reports.ts";
import { setupLogging, shutdownLogging } from "../../src/daemon/logging.ts";

Deno.test("formatTrafficSummary() lists served, dropped with its reasons, KoD sent and control requests", () => {
  assert.equal(
    formatTrafficSummary({
      received: 1210,
      served: 1180,
      kodSent: 7,
      control: 3,
      dropRateLimited: 20,
      dropRestricted: 4,
      dropTooShort: 3,
      dropBadMode: 0,
    }, { label: "in the last 3600 s" }),
    "traffic in the last 3600 s: received 1210, served 1180, dropped 27 " +
      "(rate limited 20, restricted 4, too short 3), KoD sent 7, control requests 3",
  );
});

Deno.test("formatTrafficSummary() shows zeros without reasons, and I/O problems only when there are any", () => {
  assert.equal(
    formatTrafficSummary({}, { label: "since the start (5 s)" }),
    "traffic since the start (5 s): received 0, served 0, dropped 0, KoD sent 0, control requests 0",
  );
  assert.match(
    formatTrafficSummary({ received: 2, ioSendErrors: 2, ioHandlerErrors: 1 }, { label: "x" }),
    /; I\/O send errors 2, handler errors 1$/,
  );
});

Deno.test("counterDelta() subtracts the previous totals, counting missing ones as zero", () => {
  assert.deepEqual(counterDelta({ served: 15, kodSent: 2 }, { served: 10 }), {
    served: 5,
    kodSent: 2,
  });
});

Deno.test("formatSpan() shows seconds below two hours, then hours and minutes, then days", () => {
  assert.equal(formatSpan(3600.4), "3600 s");
  assert.equal(formatSpan(7260), "2 h 1 min");
  assert.equal(formatSpan(3 * 86400 + 7200), "3 d 2 h");
});

Deno.test("formatFrequencyReport() reports the first value and later only changes of 0.001 ppm or more", () => {
  assert.equal(formatFrequencyReport(null, { previousPpm: null, spanSeconds: 0 }), null);
  assert.equal(
    formatFrequencyReport(-12.3456, { previousPpm: null, spanSeconds: 3600 }),
    "frequency -12.346 ppm",
  );
  assert.equal(formatFrequencyReport(5.0004, { previousPpm: 5, spanSeconds: 3600 }), null);
  assert.equal(
    formatFrequencyReport(5.021, { previousPpm: 5, spanSeconds: 3600 }),
    "frequency 5.021 ppm (+0.021 ppm in the last 3600 s)",
  );
  assert.equal(
    formatFrequencyReport(4.9, { previousPpm: 5, spanSeconds: 7200 }),
    "frequency 4.900 ppm (-0.100 ppm in the last 2 h 0 min)",
  );
});

Deno.test("startPeriodicReports() logs the traffic of each interval, frequency changes, and the totals at stop", async () => {
  const chunks: string[] = [];
  const decoder = new TextDecoder();
  setupLogging({
    level: "info",
    stderrStyle: "journal",
    stderr: {
      writeSync: (bytes) => {
        chunks.push(decoder.decode(bytes));
        return bytes.length;
      },
    },
  });
  try {
    let served = 100; // before the start: not in the first interval's numbers
    const frequencies = [10, 10.0004, 10.25];
    let monotonic = 1000;
    const reports = startPeriodicReports({
      counters: () => ({ received: served, served }),
      frequencyPpm: () => frequencies.shift() ?? null,
    }, { intervalSeconds: 0.05, monotonicSeconds: () => monotonic });
    served += 5;
    monotonic += 3600;
    // Wait for the timer's first report; the rest runs without yielding, so it fires only once.
    for (let waited = 0; chunks.length === 0 && waited < 5000; waited += 5) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    served += 7;
    monotonic += 3600;
    reports.reportNow();
    monotonic += 3600;
    reports.reportNow();
    reports.stop();
    reports.stop();
    const lines = chunks.join("").trim().split("\n");
    assert.deepEqual(lines, [
      "<6>ntp·report: traffic in the last 3600 s: received 5, served 5, dropped 0, KoD sent 0, control requests 0",
      "<6>ntp·report: frequency 10.000 ppm",
      "<6>ntp·report: traffic in the last 3600 s: received 7, served 7, dropped 0, KoD sent 0, control requests 0",
      "<6>ntp·report: traffic in the last 3600 s: received 0, served 0, dropped 0, KoD sent 0, control requests 0",
      "<6>ntp·report: frequency 10.250 ppm (+0.250 ppm in the last 2 h 0 min)",
      "<6>ntp·report: traffic since the start (3 h 0 min): received 112, served 112, dropped 0, KoD sent 0, control requests 0",
    ]);
  } finally {
    shutdownLogging();
  }
});
