// `ntp query HOST[:PORT]`: a one-shot client like ntpdig: offset, delay, stratum, refid, leap and root distance, origin checked.
import { parseHostPort } from "../config/addresses.ts";
import { KISS_CODES } from "../core/packet/kiss_code.ts";
import type { NtpPacket } from "../core/packet/ntp_packet.ts";
import { formatRefid } from "../core/packet/refid.ts";
import { secondsFromShort } from "../core/time/short_format.ts";
import type { ReplyRejection } from "../core/client/reply_check.ts";
import {
  buildExchangeRequest,
  type ExchangeVerdict,
  judgeExchange,
  rootDistanceSeconds,
} from "../core/client/exchange.ts";
import type { NtpTimestamp } from "../core/time/ntp_timestamp.ts";
import { openQueryClient, QueryResolveError } from "../io/query_client.ts";
import { type NtsQuery, startNtsQuery } from "./nts_query_session.ts";
import { UsageError } from "./errors.ts";
import {
  flagHelp,
  parseFlags,
  secondsFlag,
  switchFlag,
  valueFlag,
  wholeNumberFlag,
} from "./flag_spec.ts";

const queryFlags = {
  samples: valueFlag(
    ["--samples"],
    "N",
    "send N requests one second apart and report the one with the\nsmallest delay (default 1, at most 64)",
    (text, flag) => wholeNumberFlag(flag, text, { min: 1, max: 64 }),
  ),
  json: switchFlag(["--json"], "print one JSON object instead of text"),
  timeout: valueFlag(
    ["--timeout"],
    "SECONDS",
    "wait this long for each answer (default 2)",
    (text, flag) => secondsFlag(flag, text, 60),
  ),
  nts: switchFlag(
    ["--nts"],
    "authenticate with NTS (RFC 8915): NTS-KE over TLS first, then\nNTS-protected requests; an unauthenticated answer is refused",
  ),
  ntsCa: valueFlag(
    ["--nts-ca"],
    "FILE",
    "trust the certificates in FILE (PEM) for NTS-KE instead of the\nsystem's store",
    (text) => text,
  ),
  ntsPort: valueFlag(
    ["--nts-port"],
    "PORT",
    "NTS-KE TCP port (default 4460)",
    (text, flag) => wholeNumberFlag(flag, text, { min: 1, max: 65535 }),
  ),
};

/** Help text of `ntp query`. */
export const queryUsage =
  `usage: ntp query HOST[:PORT] [--samples N] [--json] [--timeout SECONDS] [--nts [--nts-ca FILE] [--nts-port PORT]]

${
    flagHelp(queryFlags, [{
      name: "HOST[:PORT]",
      help: "the server to ask (default port 123; IPv6 as [2001:db8::1]:123)",
    }])
  }

Sends NTP client requests (version 4, random transmit timestamp) and prints the server's
offset from this machine's clock (positive: this clock is behind), round-trip delay, stratum,
refid, leap indicator and root distance. Never changes the clock. With --nts the server's
certificate is checked against HOST, and NTP goes where NTS-KE says (server and port
negotiation), else to HOST:PORT.
Exit status: 0 a valid answer; 1 no answer, an invalid answer (the origin timestamp does not
echo our request, not mode 4, ...), a Kiss-o'-Death, or an unsynchronised server (leap 3 or
stratum 16); 2 bad flags.`;

/** The options `ntp query` runs with. */
export interface QueryOptions {
  readonly host: string;
  readonly port: number;
  readonly samples: number;
  readonly json: boolean;
  readonly timeoutSeconds: number;
  /** NTS: authenticate (KE on `ntsPort`, certificates from `ntsCaFile` or the system). */
  readonly nts: { readonly caFile: string | null; readonly port: number } | null;
}

/** The verdict on one request: the exchange's (core/client/exchange.ts), a rejection in words. */
export type SampleResult =
  | Exclude<ExchangeVerdict, { readonly kind: "invalid" }>
  | { readonly kind: "invalid"; readonly reason: string };

/**
 * Parses `ntp query` arguments.
 *
 * @throws {UsageError} On a missing or bad host, an unknown flag or a bad number.
 */
export function parseQueryArgs(args: readonly string[]): QueryOptions {
  const { values, positionals } = parseFlags("query", queryFlags, args, {
    maxPositionals: 1,
    positionalName: "server",
  });
  const target = positionals[0];
  const samples = values.samples ?? 1;
  const json = values.json;
  const timeoutSeconds = values.timeout ?? 2;
  if (target === undefined) throw new UsageError("query: which server? (ntp query HOST[:PORT])");
  const parsed = parseHostPort(target, { allowPortZero: false });
  if (!parsed.ok) throw new UsageError(`query: ${parsed.message}`);
  if (!values.nts && (values.ntsCa !== undefined || values.ntsPort !== undefined)) {
    throw new UsageError("query: --nts-ca and --nts-port need --nts");
  }
  const nts = values.nts ? { caFile: values.ntsCa ?? null, port: values.ntsPort ?? 4460 } : null;
  return {
    host: parsed.value.host,
    port: parsed.value.port ?? 123,
    samples,
    json,
    timeoutSeconds,
    nts,
  };
}

/**
 * Judges one exchange as every one-shot client does (core/client/exchange.ts) and words an
 * invalid answer for people.
 *
 * @example
 * ```ts
 * import { buildExchangeRequest } from "../core/client/exchange.ts";
 * import type { NtpTimestamp } from "../core/time/ntp_timestamp.ts";
 * declare const sentAt: NtpTimestamp;
 * declare const reply: Uint8Array | null;
 * declare const receivedAt: NtpTimestamp | null;
 * const request = buildExchangeRequest(crypto.getRandomValues(new Uint8Array(8)));
 * evaluateReply({ request, sentAt, reply, receivedAt }).kind; // "ok"
 * ```
 */
export function evaluateReply(exchange: {
  readonly request: Uint8Array;
  readonly sentAt: NtpTimestamp;
  readonly reply: Uint8Array | null;
  readonly receivedAt: NtpTimestamp | null;
}): SampleResult {
  const verdict = judgeExchange(exchange, { localPrecisionLog2: queryPrecisionLog2 });
  if (verdict.kind !== "invalid") return verdict;
  return {
    kind: "invalid",
    reason: verdict.packet === null
      ? "not an NTP packet"
      : rejectionText(verdict.reason, verdict.packet),
  };
}

/** Floor of the delay as measured here (2^-30 s: effectively none; the reply's own precision counts). */
const queryPrecisionLog2 = -30;

function rejectionText(reason: ReplyRejection, packet: NtpPacket): string {
  switch (reason) {
    case "badMode":
      return `mode ${packet.mode}, expected 4 (server)`;
    case "badVersion":
      return `version ${packet.version}, expected 1 to 4`;
    case "bogusOrigin":
    case "duplicate":
      return "its origin timestamp does not echo our request (stray or spoofed reply)";
    case "zeroTimestamp":
      return "its receive or transmit timestamp is zero";
    case "badHeader":
      return "its header is implausible (root distance over 16 s, or reference or transmit time out of order)";
    case "malformed":
    case "unsynchronised":
      return "not a usable NTP reply";
  }
}

const leapNames = ["no-leap", "add-leap", "del-leap", "unsync"] as const;

function signed(value: number, decimals: number): string {
  return (value >= 0 ? "+" : "") + value.toFixed(decimals);
}

/** What `ntp query` reports, text and JSON forms, and its exit code. */
export interface QueryReport {
  readonly exitCode: 0 | 1;
  /** Lines for stdout. */
  readonly stdout: readonly string[];
  /** Lines for stderr (the reason of a failure). */
  readonly stderr: readonly string[];
  readonly json: Record<string, unknown>;
}

/**
 * Builds the report from the samples taken: the best "ok" sample (smallest delay) decides;
 * otherwise the last sample's failure (a Kiss-o'-Death stops the run early).
 */
export function buildQueryReport(
  target: { readonly host: string; readonly address: string; readonly port: number },
  samples: readonly SampleResult[],
  options: { readonly timeoutSeconds: number },
): QueryReport {
  const where = `${
    target.address.includes(":") ? `[${target.address}]` : target.address
  }:${target.port}`;
  const sampleLines = samples.length > 1
    ? samples.map((s, i) =>
      s.kind === "ok"
        ? `sample ${i + 1}: offset ${signed(s.offsetSeconds, 6)} s, delay ${
          s.delaySeconds.toFixed(6)
        } s`
        : `sample ${i + 1}: ${failureText(s, where, options.timeoutSeconds)}`
    )
    : [];
  const good = samples.filter((s): s is Extract<SampleResult, { kind: "ok" }> => s.kind === "ok");
  const json: Record<string, unknown> = {
    host: target.host,
    address: target.address,
    port: target.port,
    samples: samples.map((s) =>
      s.kind === "ok"
        ? { offsetSeconds: s.offsetSeconds, delaySeconds: s.delaySeconds }
        : { error: s.kind }
    ),
  };
  if (good.length === 0) {
    const last = samples.at(-1) ?? { kind: "noAnswer" as const };
    const text = failureText(last, where, options.timeoutSeconds);
    return {
      exitCode: 1,
      stdout: sampleLines,
      stderr: [`ntp query: ${text}`],
      json: {
        ...json,
        ok: false,
        error: last.kind,
        message: text,
        ...(last.kind === "kissOfDeath" ? { kissCode: last.code } : {}),
        ...(last.kind === "unsynchronised"
          ? { leap: last.packet.leap, stratum: last.packet.stratum }
          : {}),
      },
    };
  }
  const best = good.reduce((a, b) => (b.delaySeconds < a.delaySeconds ? b : a));
  const p = best.packet;
  const distance = rootDistanceSeconds(p, best.delaySeconds);
  const refid = formatRefid(p.referenceId, p.stratum);
  return {
    exitCode: 0,
    stdout: [
      ...sampleLines,
      `server ${where}, stratum ${p.stratum}, refid ${refid}, leap ${
        leapNames[p.leap]
      }, version ${p.version}, ` +
      `precision 2^${p.precisionLog2} s`,
      `offset ${signed(best.offsetSeconds, 6)} s, delay ${best.delaySeconds.toFixed(6)} s, ` +
      `root distance ${distance.toFixed(6)} s` +
      (good.length > 1 ? ` (best of ${good.length} by delay)` : ""),
    ],
    stderr: [],
    json: {
      ...json,
      ok: true,
      stratum: p.stratum,
      refid,
      leap: leapNames[p.leap],
      version: p.version,
      precisionLog2: p.precisionLog2,
      rootDelaySeconds: secondsFromShort(p.rootDelayShort),
      rootDispersionSeconds: secondsFromShort(p.rootDispersionShort),
      rootDistanceSeconds: distance,
      offsetSeconds: best.offsetSeconds,
      delaySeconds: best.delaySeconds,
    },
  };
}

function failureText(sample: SampleResult, where: string, timeoutSeconds: number): string {
  switch (sample.kind) {
    case "noAnswer":
      return `no answer from ${where} within ${timeoutSeconds} s`;
    case "kissOfDeath": {
      const meaning = KISS_CODES[sample.code];
      return `${where} sent a Kiss-o'-Death: ${sample.code}` +
        (meaning === undefined ? "" : ` (${meaning})`);
    }
    case "unsynchronised":
      return `${where} is not synchronised (leap ${sample.packet.leap}, stratum ${sample.packet.stratum})`;
    case "invalid":
      return `invalid answer from ${where}: ${sample.reason}`;
    case "ok":
      return "ok";
  }
}

/**
 * Runs `ntp query ARGS...`: exit 0 on a valid answer, 1 on no answer, an invalid answer, a
 * Kiss-o'-Death or an unsynchronised server.
 *
 * @throws {UsageError} On bad flags (the CLI prints usage and exits 2).
 */
export async function runQueryCommand(args: readonly string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(queryUsage);
    return 0;
  }
  const options = parseQueryArgs(args);
  let nts: NtsQuery | null = null;
  let ntpTarget: { host: string; port: number } = options;
  if (options.nts !== null) {
    const started = await startNtsQuery(options, options.nts);
    if (!started.ok) {
      if (options.json) {
        console.log(
          JSON.stringify({ host: options.host, ok: false, error: "nts", message: started.message }),
        );
      } else console.error(`ntp query: ${started.message}`);
      return 1;
    }
    nts = started.query;
    ntpTarget = { host: nts.ntpServer, port: nts.ntpPort ?? options.port };
  }
  let client;
  try {
    client = await openQueryClient(ntpTarget);
  } catch (error) {
    if (!(error instanceof QueryResolveError)) throw error;
    if (options.json) {
      console.log(
        JSON.stringify({ host: options.host, ok: false, error: "resolve", message: error.message }),
      );
    } else console.error(`ntp query: ${error.message}`);
    return 1;
  }
  const samples: SampleResult[] = [];
  try {
    const sentTransmits: Uint8Array[] = [];
    for (let i = 0; i < options.samples; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
      const header = buildExchangeRequest(crypto.getRandomValues(new Uint8Array(8)));
      const protectedRequest = nts?.wrap(header) ?? null;
      if (nts !== null && protectedRequest === null) {
        samples.push({ kind: "invalid", reason: "no NTS cookie left" });
        break;
      }
      const request = protectedRequest?.bytes ?? header;
      const earlier = [...sentTransmits];
      sentTransmits.push(request.subarray(40, 48));
      let ntsRefusal: string | null = null;
      const exchange = await client.exchange(request, {
        timeoutMs: options.timeoutSeconds * 1000,
        // A late answer to an earlier request is not this one's answer; with NTS, neither is one
        // that does not authenticate (a spoofed datagram must not use up the sample), except an
        // NTS NAK, reported as the Kiss-o'-Death it is.
        accept: (reply) => {
          if (earlier.some((t) => reply.length >= 32 && t.every((b, k) => reply[24 + k] === b))) {
            return false;
          }
          if (protectedRequest === null) return true;
          const refused = protectedRequest.check(reply);
          if (refused !== null && refused !== "NTS NAK") {
            ntsRefusal = refused;
            return false;
          }
          return true;
        },
      });
      const result: SampleResult = exchange.reply === null && ntsRefusal !== null
        ? { kind: "invalid", reason: `NTS: ${ntsRefusal}` }
        : evaluateReply({ request, ...exchange });
      samples.push(result);
      if (result.kind === "kissOfDeath") break;
    }
  } finally {
    await client.close();
  }
  const report = buildQueryReport(
    { host: options.host, address: client.address, port: client.port },
    samples,
    options,
  );
  if (nts !== null) {
    report.json.nts = {
      keServer: `${options.host}:${options.nts!.port}`,
      aeadId: nts.aeadId,
      cookiesLeft: nts.cookiesLeft(),
    };
  }
  const stdout = nts !== null && report.exitCode === 0
    ? [
      ...report.stdout,
      `authenticated with NTS (AEAD ${nts.aeadId}, NTS-KE ${options.host}:${options.nts!.port})`,
    ]
    : report.stdout;
  if (options.json) {
    console.log(JSON.stringify(report.json));
  } else {
    for (const line of stdout) console.log(line);
    for (const line of report.stderr) console.error(line);
  }
  return report.exitCode;
}
