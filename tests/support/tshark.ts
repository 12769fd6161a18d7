// Captures UDP traffic inside one of our network namespaces with tshark and decodes it with Wireshark's NTP dissector.
import { type Daemon, runCommand, startDaemon } from "./processes.ts";

/** One NTP datagram as Wireshark decoded it. */
export interface DecodedDatagram {
  readonly frame: number;
  readonly sourcePort: number;
  readonly destinationPort: number;
  /** The UDP payload. */
  readonly payload: Uint8Array;
  /** NTP mode as decoded by Wireshark (undefined when the NTP dissector did not run). */
  readonly mode?: number;
  /** Wireshark flagged the packet as malformed (`_ws.malformed`). */
  readonly malformed: boolean;
  /** Expert infos of severity warning or error, as "severity: message". */
  readonly expertWarnings: readonly string[];
}

/** Wireshark expert severity PI_WARN; PI_ERROR is above it. */
const expertWarnSeverity = 0x00600000;

/**
 * A running tshark capture (on `lo` of a namespace, UDP to or from one port). Dispose it to stop the
 * capture and remove its file.
 */
export class Capture implements AsyncDisposable {
  readonly #daemon: Daemon;
  readonly #dir: string;
  readonly #port: number;

  /** Takes ownership of the tshark daemon and its capture directory. */
  constructor(daemon: Daemon, dir: string, port: number) {
    this.#daemon = daemon;
    this.#dir = dir;
    this.#port = port;
  }

  /**
   * Stops the capture (waiting a moment so the last packets are written) and decodes everything
   * captured so far with the NTP dissector forced on the port.
   */
  async stopAndDecode(): Promise<DecodedDatagram[]> {
    await new Promise((resolve) => setTimeout(resolve, 300));
    await this.#daemon.stop({ signal: "SIGINT" });
    const fields = [
      "frame.number",
      "udp.srcport",
      "udp.dstport",
      "udp.payload",
      "ntp.flags.mode",
      "_ws.malformed",
      "_ws.expert.severity",
      "_ws.expert.message",
    ];
    const result = await runCommand([
      "tshark",
      "-r",
      `${this.#dir}/capture.pcapng`,
      "-d",
      `udp.port==${this.#port},ntp`,
      "-T",
      "fields",
      "-E",
      "separator=\t",
      "-E",
      "occurrence=a",
      "-E",
      "aggregator=|",
      ...fields.flatMap((f) => ["-e", f]),
    ], { env: { TMPDIR: this.#dir } });
    if (result.code !== 0) {
      throw new Error(`tshark -r failed (${result.code}): ${result.stderr}`);
    }
    return result.stdout.split("\n").filter((line) => line.trim() !== "").map(parseRow);
  }

  /** Stops tshark if still running and removes the capture directory. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#daemon.stop({ signal: "SIGINT" });
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Starts tshark on `lo` inside `netns`, capturing UDP datagrams to or from `port`, and waits until it
 * reports that it is capturing.
 */
export async function startCapture(netns: string, port: number): Promise<Capture> {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-pcap-" });
  try {
    const daemon = await startDaemon([
      "tshark",
      "-i",
      "lo",
      "-f",
      `udp port ${port}`,
      "-w",
      `${dir}/capture.pcapng`,
      "-q",
    ], {
      netns,
      env: { TMPDIR: dir },
      ready: { stderrPattern: /Capturing on/, timeoutMs: 15_000 },
    });
    return new Capture(daemon, dir, port);
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }
}

function parseRow(line: string): DecodedDatagram {
  const [frame, src, dst, payloadHex, mode, malformed, severities, messages] = line.split("\t");
  const severityList = (severities ?? "").split("|").filter((s) => s !== "").map(Number);
  const messageList = (messages ?? "").split("|");
  const expertWarnings = severityList.flatMap((severity, i) =>
    severity >= expertWarnSeverity ? [`${severity.toString(16)}: ${messageList[i] ?? ""}`] : []
  );
  const hex = (payloadHex ?? "").replaceAll(":", "");
  const payload = new Uint8Array(hex.length / 2);
  for (let i = 0; i < payload.length; i++) payload[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  const modeNumber = (mode ?? "") === "" ? undefined : Number(mode!.split("|")[0]);
  return {
    frame: Number(frame),
    sourcePort: Number(src),
    destinationPort: Number(dst),
    payload,
    ...(modeNumber === undefined ? {} : { mode: modeNumber }),
    malformed: (malformed ?? "") !== "",
    expertWarnings,
  };
}

/** What {@link inspectExchanges} found in a capture. */
export interface ExchangeReport {
  /** Mode 3 requests seen. */
  readonly requests: number;
  /** Mode 4 replies seen. */
  readonly replies: number;
  /** Replies to requests whose transmit timestamp was more than a day off the reply's (chronyd's random ones). */
  readonly randomTransmitsEchoed: number;
  /** Every malformed packet, expert warning, unmatched origin or oversize reply, one line each. */
  readonly problems: readonly string[];
}

/**
 * Checks decoded NTP traffic: nothing malformed or with expert warnings, every mode 4 reply echoes
 * (as origin) the transmit timestamp of a mode 3 request from the port it goes to, and no reply is
 * larger than that request.
 */
export function inspectExchanges(datagrams: readonly DecodedDatagram[]): ExchangeReport {
  const problems: string[] = [];
  const requests = new Map<string, number>();
  let requestCount = 0;
  let replyCount = 0;
  let randomEchoed = 0;
  for (const d of datagrams) {
    if (d.malformed) problems.push(`frame ${d.frame}: Wireshark marks it malformed`);
    for (const w of d.expertWarnings) problems.push(`frame ${d.frame}: expert info ${w}`);
    if (d.payload.length < 48) continue;
    const view = new DataView(d.payload.buffer, d.payload.byteOffset, d.payload.byteLength);
    if (d.mode === 3) {
      requestCount++;
      requests.set(`${d.sourcePort}/${view.getBigUint64(40).toString(16)}`, d.payload.length);
    } else if (d.mode === 4) {
      replyCount++;
      const origin = view.getBigUint64(24);
      const requestLength = requests.get(`${d.destinationPort}/${origin.toString(16)}`);
      if (requestLength === undefined) {
        problems.push(`frame ${d.frame}: reply origin ${origin.toString(16)} echoes no request`);
        continue;
      }
      if (d.payload.length > requestLength) {
        problems.push(
          `frame ${d.frame}: ${d.payload.length}-byte reply to a ${requestLength}-byte request`,
        );
      }
      const transmitSeconds = Number(view.getBigUint64(40) >> 32n);
      if (Math.abs(Number(origin >> 32n) - transmitSeconds) > 86_400) randomEchoed++;
    }
  }
  return {
    requests: requestCount,
    replies: replyCount,
    randomTransmitsEchoed: randomEchoed,
    problems,
  };
}
