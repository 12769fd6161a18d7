// Stratum 1 reference servers for the keep-time benchmark: each answers mode 3 requests with the time of a ReferencePlan (plus its own error), from kernel receive stamps.
//
// Usage (as the benchmark runs it, inside its namespace, under setpriv --bounding-set=-sys_time):
//   deno run --allow-ffi --allow-net --allow-read scripts/keep_time/reference_servers.ts \
//     --plan '{"startUnixSeconds":...,"offsetSeconds":0.037,"ratePpm":20}' \
//     --servers 127.0.2.1:12301,127.0.2.2:12302,127.0.2.5:12305+0.02 [--lifetime-s 900]
//     [--flap-s SECONDS]
// A server written ADDRESS:PORT+SECONDS keeps the plan's time plus SECONDS (a falseticker).
// With --flap-s F the servers take turns going silent: server i (of n) ignores requests during
// [(k*n + i)*F, (k*n + i + 1)*F) from its start, so each is silent one period in n (the soak
// benchmark's flapping upstreams).
// Prints "READY" once every socket is bound; exits after --lifetime-s.
import { encodePacket } from "../../src/core/packet/encode_packet.ts";
import { decodePacket } from "../../src/core/packet/decode_packet.ts";
import { NtpMode } from "../../src/core/packet/ntp_packet.ts";
import { refidFromAscii } from "../../src/core/packet/refid.ts";
import { ntpFromUnix } from "../../src/core/time/ntp_timestamp.ts";
import { shortFromSeconds } from "../../src/core/time/short_format.ts";
import { readRealtime } from "../../src/io/clock_realtime.ts";
import { openUpstreamSocket, type UpstreamSocket } from "../../src/io/udp_client.ts";
import { referenceOffsetAt, type ReferencePlan } from "./reference_clock.ts";

function option(name: string, fallback?: string): string {
  const index = Deno.args.indexOf(`--${name}`);
  const value = index >= 0 ? Deno.args[index + 1] : fallback;
  if (value === undefined) {
    console.error(`reference_servers: --${name} is required`);
    Deno.exit(2);
  }
  return value;
}

const plan = JSON.parse(option("plan")) as ReferencePlan;
const lifetimeSeconds = Number(option("lifetime-s", "900"));
const flapSeconds = Number(option("flap-s", "0"));
const startedMs = performance.now();
const specs = option("servers").split(",").map((text) => {
  const match = /^([0-9.]+):(\d+)(?:\+(-?[0-9.e-]+))?$/.exec(text);
  if (match === null) {
    console.error(`reference_servers: '${text}' is not ADDRESS:PORT[+SECONDS]`);
    Deno.exit(2);
  }
  return { address: match[1]!, port: Number(match[2]), extraSeconds: Number(match[3] ?? 0) };
});

/** The reference's time at a kernel reading, as an NTP timestamp. */
function referenceTime(
  reading: { unixSeconds: number; nanoseconds: number },
  extraSeconds: number,
) {
  const kernel = reading.unixSeconds + reading.nanoseconds * 1e-9;
  const shifted = reading.nanoseconds * 1e-9 + referenceOffsetAt(plan, kernel) + extraSeconds;
  const whole = Math.floor(shifted);
  return ntpFromUnix(reading.unixSeconds + whole, (shifted - whole) * 1e9);
}

const sockets: UpstreamSocket[] = [];
for (const [index, spec] of specs.entries()) {
  /** Whether this server is in its silent period (--flap-s). */
  const silent = () =>
    flapSeconds > 0 &&
    Math.floor((performance.now() - startedMs) / 1000 / flapSeconds) % specs.length === index;
  // Built before the socket whose callback uses it: a datagram may arrive before open() returns.
  const opened: { socket?: UpstreamSocket } = {};
  opened.socket = await openUpstreamSocket({
    family: 4,
    bindAddress: spec.address,
    port: spec.port,
    onDatagram: (datagram) => {
      if (silent()) return;
      let request;
      try {
        request = decodePacket(datagram.data);
      } catch {
        return;
      }
      const socket = opened.socket;
      if (request.mode !== NtpMode.client || socket === undefined) return;
      const receive = referenceTime(datagram.receiveKernel, spec.extraSeconds);
      const reply = encodePacket({
        leap: 0,
        version: request.version,
        mode: NtpMode.server,
        stratum: 1,
        pollLog2: request.pollLog2,
        precisionLog2: -20,
        rootDelayShort: 0,
        rootDispersionShort: shortFromSeconds(1e-5),
        referenceId: refidFromAscii("GPS"),
        referenceTime: { ...receive, fraction: 0 },
        originTime: request.transmitTime,
        receiveTime: receive,
        transmitTime: referenceTime(readRealtime(), spec.extraSeconds),
        extensionFields: [],
        mac: null,
      });
      socket.send(reply, datagram.from);
    },
  });
  sockets.push(opened.socket);
}
console.error("READY");
setTimeout(async () => {
  await Promise.all(sockets.map((s) => s.close()));
  Deno.exit(0);
}, lifetimeSeconds * 1000);
