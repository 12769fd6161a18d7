// Benchmark probe: sends mode 3 requests with the upstream transport (kernel stamps) and prints offset/delay statistics as JSON.
//
// Usage: deno run --allow-net --allow-ffi --allow-read scripts/bench_discipline_probe.ts \
//          --target 127.0.0.1:12123 [--count 20] [--interval-ms 250] [--timeout-ms 1000]
// Offsets use the NTP sign convention (positive: the server is ahead of this host's clock). On
// one host the true offset between two servers that both serve the kernel clock is 0, so the
// numbers are errors: a relay's asymmetry shows as (out - back) / 2.
import { openUpstreamSocket, type UpstreamDatagram } from "../src/io/udp_client.ts";
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

const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(argument("target"));
if (match === null) {
  console.error("bench_discipline_probe: --target must be HOST:PORT");
  Deno.exit(2);
}
const target = { hostname: match[1]!, port: Number(match[2]) };
const count = Number(argument("count", "20"));
const intervalMs = Number(argument("interval-ms", "250"));
const timeoutMs = Number(argument("timeout-ms", "1000"));

let waiting: ((datagram: UpstreamDatagram) => void) | undefined;
const socket = await openUpstreamSocket({
  family: target.hostname.includes(":") ? 6 : 4,
  onDatagram: (datagram) => waiting?.(datagram),
});
const samples: { offset: number; delay: number }[] = [];
let stratum = -1;
let leap = -1;
let lost = 0;
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
    lost++;
  } else {
    const t1 = seconds(sent.transmitKernel);
    const t2 = unixAt(datagram.data, 32);
    const t3 = unixAt(datagram.data, 40);
    const t4 = seconds(datagram.receiveKernel);
    samples.push({ offset: ((t2 - t1) + (t3 - t4)) / 2, delay: (t4 - t1) - (t3 - t2) });
    stratum = datagram.data[1]!;
    leap = datagram.data[0]! >> 6;
  }
  if (round + 1 < count) await new Promise((resolve) => setTimeout(resolve, intervalMs));
}
await socket.close();
// The offset of the sample with the smallest delay: what a clock filter would pick.
const best = samples.reduce<{ offset: number; delay: number } | null>(
  (chosen, sample) => chosen === null || sample.delay < chosen.delay ? sample : chosen,
  null,
);
console.log(JSON.stringify({
  target: `${target.hostname}:${target.port}`,
  sent: count,
  lost,
  stratum,
  leap,
  offsetSeconds: stats(samples.map((sample) => sample.offset)),
  delaySeconds: stats(samples.map((sample) => sample.delay)),
  minDelayOffsetSeconds: best?.offset ?? null,
}));
