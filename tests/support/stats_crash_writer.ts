// A process appending loopstats lines through StatsFile in a loop, for a test that kills it with SIGKILL at random moments.
//
//   deno run --allow-read --allow-write tests/support/stats_crash_writer.ts DIR START
//
// Writes lines whose offset field counts up from START (so every line is distinct), in batches of
// 50; prints "writing" once the first batch is on disk.
import { StatsFile } from "../../src/io/stats_file.ts";
import { formatLoopStats } from "../../src/core/stats/stats_lines.ts";

/** The line the writer writes for `n` (offset n µs, frequency n ppb). */
export function crashLine(n: number): string {
  return formatLoopStats({
    unixSeconds: 1_796_601_600 + n / 1000,
    offsetSeconds: n * 1e-6,
    frequencyPpm: n / 1000,
    jitterSeconds: 1e-6,
    wanderPpm: 0.001,
    pollLog2: 6,
  });
}

async function main(args: readonly string[]): Promise<void> {
  const [dir, startText] = args;
  if (dir === undefined || startText === undefined) {
    throw new Error("usage: stats_crash_writer.ts DIR START");
  }
  const file = new StatsFile({
    directory: dir,
    fileName: "loopstats",
    generation: "day",
    link: true,
    context: () => ({ pid: Deno.pid, uptimeSeconds: 0 }),
    onProblem: (message) => console.error(message),
    onRecovered: () => {},
  });
  let n = Number(startText);
  for (let batch = 0;; batch++) {
    // All in one day's file: the line times stay within 2026-12-07.
    for (let i = 0; i < 50; i++, n++) file.append(crashLine(n), 1_796_601_600 + 10);
    await file.flush();
    if (batch === 0) console.log("writing");
  }
}

if (import.meta.main) await main(Deno.args);
