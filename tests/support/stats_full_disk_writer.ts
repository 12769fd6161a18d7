// Fills a small file system with statistics lines through StatsFile, frees some space, writes on; prints what StatsFile reported, as JSON.
//
//   deno run --allow-read --allow-write tests/support/stats_full_disk_writer.ts DIR
//
// DIR is expected to be a tiny tmpfs (the test mounts one in a mount namespace of its own). A
// filler file taken first is removed once the disk is full, so that writing can resume.
import { StatsFile } from "../../src/io/stats_file.ts";
import { crashLine } from "./stats_crash_writer.ts";

async function main(dir: string): Promise<void> {
  await Deno.writeFile(`${dir}/filler`, new Uint8Array(16 * 1024));
  const problems: string[] = [];
  const recoveries: string[] = [];
  const file = new StatsFile({
    directory: dir,
    fileName: "loopstats",
    generation: "day",
    link: true,
    context: () => ({ pid: Deno.pid, uptimeSeconds: 0 }),
    onProblem: (message) => problems.push(message),
    onRecovered: (message) => recoveries.push(message),
  });
  let n = 0;
  // Until the disk is full, and 20 batches more (each refused, reported once).
  let afterFull = 0;
  while (afterFull < 20 && n < 1_000_000) {
    for (let i = 0; i < 20; i++, n++) file.append(crashLine(n), 1_796_601_610);
    await file.flush();
    if (problems.length > 0) afterFull++;
  }
  const full = { ...file.counters };
  await Deno.remove(`${dir}/filler`);
  const after = n;
  for (let i = 0; i < 5; i++, n++) file.append(crashLine(n), 1_796_601_610);
  await file.close();
  // What the file holds: lines that are whole, and those a full disk cut short.
  const lines = (await Deno.readTextFile(`${dir}/loopstats.20261207`)).split("\n");
  const last = lines.pop();
  const whole = lines.filter((line) => {
    const n = Number(line.split(" ")[2]) * 1e6;
    return crashLine(Math.round(n)) === line;
  }).length;
  const tail = lines.slice(-5).join("\n") ===
    Array.from({ length: 5 }, (_, i) => crashLine(after + i)).join("\n");
  console.log(JSON.stringify({
    problems,
    recoveries,
    full,
    final: file.counters,
    after,
    lines: lines.length,
    whole,
    endsWithNewline: last === "",
    tail,
  }));
}

if (import.meta.main) await main(Deno.args[0]!);
