// A misbehaving NTP server for the tests (Kiss-o'-Death, unsynchronised, a wrong origin, silence, a clock 0.5 s ahead): in-process, or as a program in a namespace.
//
// Never a time source: it answers from Date.now() (millisecond resolution) and exists to show how
// clients (ours and the real ones) react to each kind of bad answer.
//
//   BEHAVIOUR   kod-RATE | kod-DENY | kod-RSTR   LI 3, stratum 0, refid the kiss code
//               kod-INIT                         the same: ntpd's answer before it synchronised
//               unsync                           LI 3, stratum 16, refid INIT
//               badorigin                        a valid-looking reply whose origin is not ours
//               silent                           reads and drops everything
//               ok                               a well-formed stratum 2 reply
//               ahead                            like ok, the server's clock 0.5 s ahead
//
// As a program: deno run --allow-net tests/support/fake_ntp_server.ts BEHAVIOUR [--addr A]
// [--port N]; prints "fake_ntp_server BEHAVIOUR listening on A:N" on stderr once bound. Mode 6
// and anything that is not a 48-byte-or-longer mode 3 request is dropped.
import dgram from "node:dgram";

/** What the server does with every request. */
export type FakeBehaviour =
  | "kod-RATE"
  | "kod-DENY"
  | "kod-RSTR"
  | "kod-INIT"
  | "unsync"
  | "badorigin"
  | "silent"
  | "ok"
  | "ahead";

const behaviours: readonly FakeBehaviour[] = [
  "kod-RATE",
  "kod-DENY",
  "kod-RSTR",
  "kod-INIT",
  "unsync",
  "badorigin",
  "silent",
  "ok",
  "ahead",
];

/** A running fake server; dispose it (or call close) to stop it. */
export interface FakeNtpServer extends AsyncDisposable {
  readonly port: number;
  /** Requests answered so far. */
  readonly answered: number;
  close(): Promise<void>;
}

const ntpUnixOffsetSeconds = 2_208_988_800;

function writeNtpTime(view: DataView, offset: number, unixMilliseconds: number): void {
  const seconds = Math.floor(unixMilliseconds / 1000);
  const fraction = ((unixMilliseconds - seconds * 1000) / 1000) * 2 ** 32;
  view.setUint32(offset, seconds + ntpUnixOffsetSeconds);
  view.setUint32(offset + 4, Math.floor(fraction) >>> 0);
}

/**
 * The reply `behaviour` gives to `request`, or null (no reply: silent, or not a mode 3 request).
 *
 * @example
 * ```ts
 * const request = new Uint8Array(48);
 * request[0] = 0x23; // LI 0, version 4, mode 3
 * fakeReply(request, "unsync", Date.now())?.[1]; // 16: stratum
 * ```
 */
export function fakeReply(
  request: Uint8Array,
  behaviour: FakeBehaviour,
  nowMilliseconds: number,
): Uint8Array | null {
  if (request.length < 48 || (request[0]! & 7) !== 3 || behaviour === "silent") return null;
  const version = (request[0]! >> 3) & 7;
  const skewMs = behaviour === "ahead" ? 500 : 0;
  let leap = 0;
  let stratum = 2;
  let refid = [127, 127, 1, 1];
  if (behaviour.startsWith("kod-")) {
    leap = 3;
    stratum = 0;
    refid = [...new TextEncoder().encode(behaviour.slice(4, 8))];
  } else if (behaviour === "unsync") {
    leap = 3;
    stratum = 16;
    refid = [...new TextEncoder().encode("INIT")];
  }
  const reply = new Uint8Array(48);
  const view = new DataView(reply.buffer);
  reply[0] = (leap << 6) | (version << 3) | 4;
  reply[1] = stratum;
  reply[2] = request[2]!;
  reply[3] = 0xec; // precision 2^-20
  reply.set(refid, 12);
  if (stratum !== 0 && stratum !== 16) writeNtpTime(view, 16, nowMilliseconds + skewMs - 5000);
  reply.set(request.subarray(40, 48), 24);
  if (behaviour === "badorigin") reply[31] = reply[31]! ^ 0x5a;
  writeNtpTime(view, 32, nowMilliseconds + skewMs);
  writeNtpTime(view, 40, nowMilliseconds + skewMs);
  return reply;
}

/**
 * Starts a fake server on `hostname` (default 127.0.0.1) and `port` (default: a free one).
 *
 * @example
 * ```ts
 * await using server = await startFakeNtpServer({ behaviour: "kod-RATE" });
 * // point a client at 127.0.0.1:server.port
 * ```
 */
export async function startFakeNtpServer(options: {
  readonly behaviour: FakeBehaviour;
  readonly hostname?: string;
  readonly port?: number;
}): Promise<FakeNtpServer> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", (error) => {
      socket.close(); // a socket that could not bind is not left open
      reject(error);
    });
    socket.bind(options.port ?? 0, options.hostname ?? "127.0.0.1", () => resolve());
  });
  let answered = 0;
  socket.on("message", (message: Uint8Array, remote: dgram.RemoteInfo) => {
    const reply = fakeReply(new Uint8Array(message), options.behaviour, Date.now());
    if (reply === null) return;
    answered++;
    socket.send(reply, remote.port, remote.address);
  });
  let closing: Promise<void> | undefined;
  const close = () => closing ??= new Promise<void>((resolve) => socket.close(() => resolve()));
  return {
    port: socket.address().port,
    get answered() {
      return answered;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

async function main(args: readonly string[]): Promise<number> {
  const behaviour = args[0] as FakeBehaviour | undefined;
  if (behaviour === undefined || !behaviours.includes(behaviour)) {
    console.error(
      `usage: fake_ntp_server.ts BEHAVIOUR [--addr A] [--port N]; BEHAVIOUR: ${
        behaviours.join(", ")
      }`,
    );
    return 2;
  }
  const option = (name: string) => {
    const index = args.indexOf(`--${name}`);
    return index >= 0 ? args[index + 1] : undefined;
  };
  const hostname = option("addr") ?? "127.0.0.1";
  const server = await startFakeNtpServer({
    behaviour,
    hostname,
    port: Number(option("port") ?? 0),
  });
  console.error(`fake_ntp_server ${behaviour} listening on ${hostname}:${server.port}`);
  await new Promise<void>((resolve) => {
    Deno.addSignalListener("SIGTERM", resolve);
    Deno.addSignalListener("SIGINT", resolve);
  });
  await server.close();
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
