// A drift file that is unreadable, empty, not a number or beyond +-500 ppm: a warning naming the file and the value, then a start without one (frequency 0, never outside +-500 ppm).
import assert from "node:assert/strict";
import { parseConfigText } from "../../src/config/mod.ts";
import { setupLogging, shutdownLogging } from "../../src/daemon/logging.ts";
import { startTimeKeeping } from "../../src/daemon/time_keeping.ts";
import { createSoftClock } from "../../src/io/clock_soft.ts";

const cases: readonly {
  readonly name: string;
  readonly content: string | null;
  readonly says: RegExp;
}[] = [
  { name: "empty", content: "", says: /the file is empty/ },
  { name: "not a number", content: "hello\n", says: /'hello' is not a number/ },
  { name: "beyond +500 ppm", content: "612.5\n", says: /612\.5 ppm is outside \+-500 ppm/ },
  { name: "beyond -500 ppm", content: "-1e9\n", says: /-1e9 ppm is outside \+-500 ppm/ },
  { name: "not finite", content: "NaN\n", says: /'NaN' is not a number/ },
  { name: "unreadable (a directory)", content: null, says: /Cannot read drift file/ },
];

for (const { name, content, says } of cases) {
  Deno.test(`a drift file that is ${name} is reported with its path and ignored`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "ntpt-drift-" });
    const lines: string[] = [];
    const decoder = new TextDecoder();
    setupLogging({
      level: "info",
      stderrStyle: "plain",
      stderr: { writeSync: (bytes) => (lines.push(decoder.decode(bytes)), bytes.length) },
    });
    let timeKeeping: Awaited<ReturnType<typeof startTimeKeeping>> | undefined;
    try {
      const path = `${dir}/ntp.drift`;
      if (content === null) await Deno.mkdir(path);
      else await Deno.writeTextFile(path, content);
      const clock = createSoftClock();
      const config = parseConfigText(`driftfile ${path}\n`, {
        fileName: "test.conf",
        format: "ntp.conf",
      });
      timeKeeping = await startTimeKeeping({
        config,
        clock,
        precisionLog2: -20,
        onChange: () => {},
      });
      const warning = lines.find((line) => line.includes("[WRN]") && line.includes(path));
      assert.ok(warning !== undefined, `no warning naming ${path}:\n${lines.join("")}`);
      assert.match(warning, says);
      assert.equal(clock.getFrequencyPpm(), 0);
      assert.equal(timeKeeping.view().system.frequencyPpm, 0);
    } finally {
      await timeKeeping?.close();
      shutdownLogging();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("a good drift file sets its frequency at the start", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-drift-" });
  let timeKeeping: Awaited<ReturnType<typeof startTimeKeeping>> | undefined;
  try {
    const path = `${dir}/ntp.drift`;
    await Deno.writeTextFile(path, "-12.345\n");
    const clock = createSoftClock();
    const config = parseConfigText(`driftfile ${path}\n`, {
      fileName: "test.conf",
      format: "ntp.conf",
    });
    timeKeeping = await startTimeKeeping({
      config,
      clock,
      precisionLog2: -20,
      onChange: () => {},
    });
    assert.ok(Math.abs(clock.getFrequencyPpm() + 12.345) < 1e-9);
  } finally {
    await timeKeeping?.close();
    await Deno.remove(dir, { recursive: true });
  }
});
