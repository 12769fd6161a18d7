// The keep-time benchmark's judge: probes each served clock directly every few seconds and prints its error against the references' time (the ReferencePlan), one JSON line per probe.
//
// Usage: deno run --allow-ffi --allow-net --allow-read scripts/keep_time/judge.ts \
//   --plan '{...}' --targets chronyd=127.0.0.1:12401,ours=127.0.0.1:12402 \
//   --duration-s 300 [--every-s 2] [--count 3] [--interval-ms 20]
// Each probe is a burst of --count requests (--interval-ms apart); the sample with the smallest
// delay counts (on loopback the delay is tens of microseconds, so its error is the served
// time's). Lines: {"t": seconds since the plan's start, "name", "errorSeconds" (served time minus
// reference time: positive = ahead), "delaySeconds", "stratum", "leap", "rootDistanceSeconds"}
// or {"t", "name", "lost": true}.
import { readRealtime } from "../../src/io/clock_realtime.ts";
import { openUpstreamSocket, type UpstreamDatagram } from "../../src/io/udp_client.ts";
import { referenceOffsetAt, type ReferencePlan } from "./reference_clock.ts";

const eraOffsetSeconds = 2_208_988_800;

function option(name: string, fallback?: string): string {
  const index = Deno.args.indexOf(`--${name}`);
  const value = index >= 0 ? Deno.args[index + 1] : fallback;
  if (value === undefined) {
    console.error(`judge: --${name} is required`);
    Deno.exit(2);
  }
  return value;
}

function unixAt(packet: Uint8Array, offset: number): number {
  const view = new DataView(packet.buffer, packet.byteOffset);
  return view.getUint32(offset) - eraOffsetSeconds + view.getUint32(offset + 4) / 2 ** 32;
}

function shortAt(packet: Uint8Array, offset: number): number {
  return new DataView(packet.buffer, packet.byteOffset).getUint32(offset) / 65536;
}

const plan = JSON.parse(option("plan")) as ReferencePlan;
const targets = option("targets").split(",").map((text) => {
  const [name, where] = text.split("=") as [string, string];
  const at = where.lastIndexOf(":");
  return { name, hostname: where.slice(0, at), port: Number(where.slice(at + 1)) };
});
const durationSeconds = Number(option("duration-s"));
const everySeconds = Number(option("every-s", "2"));
const count = Number(option("count", "3"));
const intervalMs = Number(option("interval-ms", "20"));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let waiting: ((datagram: UpstreamDatagram) => void) | undefined;
const socket = await openUpstreamSocket({
  family: 4,
  onDatagram: (datagram) => waiting?.(datagram),
});

interface Sample {
  readonly offset: number;
  readonly delay: number;
  readonly kernel: number;
  readonly stratum: number;
  readonly leap: number;
  readonly rootDistance: number;
}

async function probe(target: typeof targets[number]): Promise<Sample | null> {
  let best: Sample | null = null;
  for (let i = 0; i < count; i++) {
    const request = new Uint8Array(48);
    request[0] = (4 << 3) | 3;
    const transmit = crypto.getRandomValues(new Uint8Array(8));
    request.set(transmit, 40);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const reply = new Promise<UpstreamDatagram | null>((resolve) => {
      waiting = (d) => {
        if (d.data.length >= 48 && transmit.every((b, j) => d.data[24 + j] === b)) resolve(d);
      };
      timer = setTimeout(() => resolve(null), 500);
    });
    const sent = socket.send(request, target);
    const datagram = sent.ok ? await reply : null;
    clearTimeout(timer);
    if (sent.ok && datagram !== null) {
      const t1 = sent.transmitKernel.unixSeconds + sent.transmitKernel.nanoseconds * 1e-9;
      const t4 = datagram.receiveKernel.unixSeconds + datagram.receiveKernel.nanoseconds * 1e-9;
      const t2 = unixAt(datagram.data, 32);
      const t3 = unixAt(datagram.data, 40);
      const sample: Sample = {
        offset: ((t2 - t1) + (t3 - t4)) / 2,
        delay: (t4 - t1) - (t3 - t2),
        kernel: (t1 + t4) / 2,
        stratum: datagram.data[1]!,
        leap: datagram.data[0]! >> 6,
        rootDistance: shortAt(datagram.data, 4) / 2 + shortAt(datagram.data, 8),
      };
      if (best === null || sample.delay < best.delay) best = sample;
    }
    if (i + 1 < count) await sleep(intervalMs);
  }
  return best;
}

const now = () => {
  const r = readRealtime();
  return r.unixSeconds + r.nanoseconds * 1e-9;
};
for (let round = 0;; round++) {
  const due = plan.startUnixSeconds + round * everySeconds;
  if (due - plan.startUnixSeconds > durationSeconds) break;
  const wait = (due - now()) * 1000;
  if (wait > 0) await sleep(wait);
  for (const target of targets) {
    const sample = await probe(target);
    const t = now() - plan.startUnixSeconds;
    if (sample === null) {
      console.log(JSON.stringify({ t, name: target.name, lost: true }));
      continue;
    }
    console.log(JSON.stringify({
      t,
      name: target.name,
      errorSeconds: sample.offset - referenceOffsetAt(plan, sample.kernel),
      delaySeconds: sample.delay,
      stratum: sample.stratum,
      leap: sample.leap,
      rootDistanceSeconds: sample.rootDistance,
    }));
  }
}
await socket.close();
