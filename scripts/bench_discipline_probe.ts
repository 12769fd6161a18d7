// Benchmark probe: sends mode 3 requests with the upstream transport (kernel stamps) and prints offset/delay statistics as JSON, once or as a time series over several servers.
//
// Usage: deno run --allow-net --allow-ffi --allow-read scripts/bench_discipline_probe.ts \
//          --target 127.0.0.1:12123 [--count 20] [--interval-ms 250] [--timeout-ms 1000]
//        ... --targets 127.0.0.1:14125,127.0.0.1:14126 --rounds 30 --every-ms 5000 [--count 8]
//          [--interval-ms 50]
// One target: a burst of --count requests, then one JSON line of statistics (with the offset of the
// min-delay sample and the median offset of the lowest-delay tenth). Several targets
// (series): every --every-ms, a burst to each target in turn; one JSON line per burst
// ({"round", "target", "wallSeconds", "medianOffsetSeconds", "minDelayOffsetSeconds", ...}) and at
// the end one {"summary": true, "target", ...} line per target with statistics over the rounds of
// the burst medians (the served time's error as it wanders) and of the min-delay offsets.
// Offsets use the NTP sign convention (positive: the server is ahead of this host's clock). On
// one host the true offset between two servers that both serve the kernel clock is 0, so the
// numbers are errors: a relay's asymmetry shows as (out - back) / 2.
import {
  openUpstreamSocket,
  type UpstreamDatagram,
  type UpstreamEndpoint,
} from "../src/io/udp_client.ts";
import type { ClockReading } from "../src/io/clock_driver.ts";

const eraOffsetSeconds = 2_208_988_800;

function seconds(reading: ClockReading): number {
  return reading.unixSeconds + reading.nanoseconds * 1e-9;
}

function unixAt(packet: Uint8Array, offset: number): number {
  const view = new DataView(packet.buffer, packet.byteOffset);
  return view.getUint32(offset) - eraOffsetSeconds + view.getUint32(offset + 4) / 2 ** 32;
}

function argument(name: string, fallback?: string): string {
  const index = Deno.args.indexOf(`--${name}`);
  const value = index >= 0 ? Deno.args[index + 1] : fallback;
  if (value === undefined) {
    console.error(`bench_discipline_probe: --${name} is required`);
    Deno.exit(2);
  }
  return value;
}

function stats(values: readonly number[]) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const rms = Math.sqrt(values.reduce((sum, value) => sum + value * value, 0) / values.length);
  const sd = Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length);
  return {
    mean,
    median: sorted[sorted.length >> 1]!,
    sd,
    rms,
    min: sorted[0]!,
    max: sorted.at(-1)!,
  };
}

function parseTarget(text: string): UpstreamEndpoint {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text);
  if (match === null) {
    console.error(`bench_discipline_probe: '${text}' is not HOST:PORT`);
    Deno.exit(2);
  }
  return { hostname: match[1]!, port: Number(match[2]), family: match[1]!.includes(":") ? 6 : 4 };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Sample {
  readonly offset: number;
  readonly delay: number;
}

interface Burst {
  readonly samples: Sample[];
  lost: number;
  stratum: number;
  leap: number;
}

const series = Deno.args.includes("--targets");
const targets = (series ? argument("targets") : argument("target")).split(",").map(parseTarget);
const count = Number(argument("count", series ? "8" : "20"));
const intervalMs = Number(argument("interval-ms", series ? "50" : "250"));
const timeoutMs = Number(argument("timeout-ms", "1000"));

let waiting: ((datagram: UpstreamDatagram) => void) | undefined;
const sockets = new Map<4 | 6, Awaited<ReturnType<typeof openUpstreamSocket>>>();
for (const family of new Set(targets.map((t) => t.family))) {
  sockets.set(
    family,
    await openUpstreamSocket({ family, onDatagram: (datagram) => waiting?.(datagram) }),
  );
}

/** Sends `count` requests to `target`, one at a time, and collects offset and delay. */
async function burst(target: UpstreamEndpoint): Promise<Burst> {
  const socket = sockets.get(target.family)!;
  const result: Burst = { samples: [], lost: 0, stratum: -1, leap: -1 };
  for (let round = 0; round < count; round++) {
    const request = new Uint8Array(48);
    request[0] = (4 << 3) | 3;
    const transmit = crypto.getRandomValues(new Uint8Array(8));
    request.set(transmit, 40);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const reply = new Promise<UpstreamDatagram | null>((resolve) => {
      waiting = (datagram) => {
        if (
          datagram.data.length >= 48 && transmit.every((byte, i) => datagram.data[24 + i] === byte)
        ) {
          resolve(datagram);
        }
      };
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    const sent = socket.send(request, target);
    const datagram = sent.ok ? await reply : null;
    clearTimeout(timer);
    if (!sent.ok || datagram === null) {
      result.lost++;
    } else {
      const t1 = seconds(sent.transmitKernel);
      const t2 = unixAt(datagram.data, 32);
      const t3 = unixAt(datagram.data, 40);
      const t4 = seconds(datagram.receiveKernel);
      result.samples.push({ offset: ((t2 - t1) + (t3 - t4)) / 2, delay: (t4 - t1) - (t3 - t2) });
      result.stratum = datagram.data[1]!;
      result.leap = datagram.data[0]! >> 6;
    }
    if (round + 1 < count) await sleep(intervalMs);
  }
  return result;
}

/** The offset of the sample with the smallest delay: what a clock filter would pick. */
function minDelayOffset(samples: readonly Sample[]): number | null {
  const best = samples.reduce<Sample | null>(
    (chosen, sample) => chosen === null || sample.delay < chosen.delay ? sample : chosen,
    null,
  );
  return best?.offset ?? null;
}

/**
 * The median offset of the tenth of the samples (at least 3) with the smallest delays: what a
 * client that trusts low-delay samples ends up serving behind this path, less noisy than one sample.
 */
function lowDelayOffset(samples: readonly Sample[]): number | null {
  if (samples.length === 0) return null;
  const lowest = [...samples].sort((a, b) => a.delay - b.delay)
    .slice(0, Math.max(3, Math.ceil(samples.length / 10)))
    .map((s) => s.offset)
    .sort((a, b) => a - b);
  return lowest[lowest.length >> 1]!;
}

const label = (t: UpstreamEndpoint) => `${t.hostname}:${t.port}`;

if (!series) {
  const target = targets[0]!;
  const result = await burst(target);
  console.log(JSON.stringify({
    target: label(target),
    sent: count,
    lost: result.lost,
    stratum: result.stratum,
    leap: result.leap,
    offsetSeconds: stats(result.samples.map((sample) => sample.offset)),
    delaySeconds: stats(result.samples.map((sample) => sample.delay)),
    minDelayOffsetSeconds: minDelayOffset(result.samples),
    lowDelayOffsetSeconds: lowDelayOffset(result.samples),
  }));
} else {
  const rounds = Number(argument("rounds"));
  const everyMs = Number(argument("every-ms", "5000"));
  const perTarget = targets.map(() => ({
    medians: [] as number[],
    minDelayOffsets: [] as number[],
    unsynchronisedRounds: 0,
    lost: 0,
    sent: 0,
  }));
  const start = performance.now();
  for (let round = 0; round < rounds; round++) {
    for (const [index, target] of targets.entries()) {
      const result = await burst(target);
      const mine = perTarget[index]!;
      mine.sent += count;
      mine.lost += result.lost;
      const offsets = stats(result.samples.map((s) => s.offset));
      const best = minDelayOffset(result.samples);
      const synchronised = result.stratum > 0 && result.stratum < 16 && result.leap !== 3;
      if (!synchronised) mine.unsynchronisedRounds++;
      else if (offsets !== null && best !== null) {
        mine.medians.push(offsets.median);
        mine.minDelayOffsets.push(best);
      }
      console.log(JSON.stringify({
        round,
        target: label(target),
        wallSeconds: Date.now() / 1000,
        stratum: result.stratum,
        leap: result.leap,
        lost: result.lost,
        medianOffsetSeconds: offsets?.median ?? null,
        minDelayOffsetSeconds: best,
        medianDelaySeconds: stats(result.samples.map((s) => s.delay))?.median ?? null,
      }));
    }
    const next = start + (round + 1) * everyMs;
    if (round + 1 < rounds) await sleep(Math.max(0, next - performance.now()));
  }
  targets.forEach((target, index) => {
    const mine = perTarget[index]!;
    console.log(JSON.stringify({
      summary: true,
      target: label(target),
      rounds,
      unsynchronisedRounds: mine.unsynchronisedRounds,
      sent: mine.sent,
      lost: mine.lost,
      medianOffsetSeconds: stats(mine.medians),
      minDelayOffsetSeconds: stats(mine.minDelayOffsets),
    }));
  });
}
await Promise.all([...sockets.values()].map((socket) => socket.close()));
