// Watches what a server serves over time (tests/support/ntp_watch.py, in a netns when asked) and judges the samples: time to synchronise, header fields, offset.
import type { ClientTarget } from "./clients.ts";
import { debianPython } from "./clients.ts";
import { type Daemon, startDaemon } from "./processes.ts";

/** One request of a watch: the reply's header fields and the measured offset, or no answer. */
export type ServedSample =
  | {
    /** Unix time (this host's clock, seconds) when the request left. */
    readonly wallSeconds: number;
    readonly answered: true;
    /** Leap indicator of the reply (3 = unsynchronised). */
    readonly leap: number;
    readonly stratum: number;
    /** The reply's reference ID as 8 lower-case hex digits, e.g. "7f000001". */
    readonly refidHex: string;
    /** Served time minus this host's clock, seconds (positive: the server is ahead). */
    readonly offsetSeconds: number;
    /** Round-trip delay of the exchange, seconds. */
    readonly delaySeconds: number;
  }
  | { readonly wallSeconds: number; readonly answered: false };

/** A sample that was answered. */
export type AnsweredSample = Extract<ServedSample, { answered: true }>;

const watchScript = decodeURIComponent(new URL("./ntp_watch.py", import.meta.url).pathname);

/**
 * A watch running in the background until stopped; dispose it (`await using`) to stop it.
 * `samples()` parses everything it has printed so far.
 */
export interface RunningWatch extends AsyncDisposable {
  /** Every sample so far. */
  samples(): ServedSample[];
  /** Stops the watcher and returns every sample it took. Idempotent. */
  stop(): Promise<ServedSample[]>;
  /** The watcher's command line and output, for messages. */
  describe(): string;
}

/**
 * Starts a watch that runs until stopped (at most `maxDurationSeconds`, default 600): a mode 3
 * request every `intervalSeconds` (inside the target's netns when given, without CAP_SYS_TIME).
 * Start it before the server to time how soon the server synchronises.
 *
 * @example
 * ```ts
 * await using watch = await startServedTimeWatch({ host: "127.0.0.1", port: 123, netns });
 * // ... later
 * const synced = firstSynchronised(watch.samples(), 2);
 * ```
 */
export async function startServedTimeWatch(
  target: ClientTarget,
  options: { readonly intervalSeconds?: number; readonly maxDurationSeconds?: number } = {},
): Promise<RunningWatch> {
  const daemon: Daemon = await startDaemon([
    debianPython,
    watchScript,
    target.host,
    String(target.port),
    "--duration",
    String(options.maxDurationSeconds ?? 600),
    "--interval",
    String(options.intervalSeconds ?? 0.5),
  ], {
    ...(target.netns === undefined ? {} : { netns: target.netns }),
    ready: { probe: () => Promise.resolve(true) },
  });
  const stop = async () => {
    await daemon.stop({ graceMs: 2000 });
    return parseWatchOutput(daemon.stdout);
  };
  return {
    samples: () => parseWatchOutput(daemon.stdout),
    stop,
    describe: () => daemon.describe(),
    [Symbol.asyncDispose]: async () => {
      await stop();
    },
  };
}

/** Parses ntp_watch.py's complete JSON lines into samples (other lines are ignored). */
export function parseWatchOutput(stdout: string): ServedSample[] {
  const samples: ServedSample[] = [];
  const lines = stdout.split("\n");
  lines.pop(); // "" after the last newline, or a line still being written
  for (const line of lines) {
    if (!line.startsWith("{")) continue;
    const raw = JSON.parse(line) as Record<string, unknown>;
    const wallSeconds = Number(raw.wall);
    if (raw.answered !== true) {
      samples.push({ wallSeconds, answered: false });
      continue;
    }
    samples.push({
      wallSeconds,
      answered: true,
      leap: Number(raw.leap),
      stratum: Number(raw.stratum),
      refidHex: String(raw.refid),
      offsetSeconds: Number(raw.offset),
      delaySeconds: Number(raw.delay),
    });
  }
  return samples;
}

/** The first answered sample with LI=0 and the given stratum, if any. */
export function firstSynchronised(
  samples: readonly ServedSample[],
  stratum: number,
): AnsweredSample | undefined {
  return samples.find((s): s is AnsweredSample =>
    s.answered && s.leap === 0 && s.stratum === stratum
  );
}

/** The reference ID an IPv4 address gives a stratum 2+ server, as 8 hex digits ("127.0.0.1" -> "7f000001"). */
export function ipv4RefidHex(address: string): string {
  const octets = address.split(".").map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
    throw new RangeError(`Cannot make a refid of '${address}': not an IPv4 address`);
  }
  return octets.map((o) => o.toString(16).padStart(2, "0")).join("");
}

/** What every sample of a synchronised server must show, for {@link servedSampleProblems}. */
export interface SynchronisedExpectation {
  readonly stratum: number;
  /** 8 hex digits, or a list of acceptable ones. */
  readonly refidHex: string | readonly string[];
  /** Largest |offset| accepted, seconds. */
  readonly maxAbsOffsetSeconds: number;
  /**
   * The offset of a sample is judged only when its delay is below this (default 1 ms): on a busy
   * machine one scheduling delay in the watcher skews a sample by up to half its delay.
   */
  readonly offsetJudgedBelowDelaySeconds?: number;
  /** Smallest share of samples that must be answered with a delay below the limit (default 0.7). */
  readonly minJudgedShare?: number;
}

/**
 * Lists every way the samples fall short of a synchronised server: unanswered requests, LI not 0,
 * the wrong stratum or refid, an offset above the limit in a sample with a short delay, or too
 * few samples with a short delay. Empty when all is well.
 */
export function servedSampleProblems(
  samples: readonly ServedSample[],
  expect: SynchronisedExpectation,
): string[] {
  const problems: string[] = [];
  const refids = typeof expect.refidHex === "string" ? [expect.refidHex] : expect.refidHex;
  const delayLimit = expect.offsetJudgedBelowDelaySeconds ?? 0.001;
  let judged = 0;
  for (const s of samples) {
    const at = new Date(s.wallSeconds * 1000).toISOString();
    if (!s.answered) {
      problems.push(`${at}: no answer`);
      continue;
    }
    if (s.leap !== 0) problems.push(`${at}: LI=${s.leap}`);
    if (s.stratum !== expect.stratum) problems.push(`${at}: stratum ${s.stratum}`);
    if (!refids.includes(s.refidHex)) problems.push(`${at}: refid ${s.refidHex}`);
    if (s.delaySeconds < delayLimit) {
      judged++;
      if (Math.abs(s.offsetSeconds) >= expect.maxAbsOffsetSeconds) {
        problems.push(
          `${at}: offset ${(s.offsetSeconds * 1e3).toFixed(3)} ms (delay ${
            (s.delaySeconds * 1e3).toFixed(3)
          } ms)`,
        );
      }
    }
  }
  const minShare = expect.minJudgedShare ?? 0.7;
  if (samples.length === 0) problems.push("no samples");
  else if (judged < minShare * samples.length) {
    problems.push(
      `only ${judged} of ${samples.length} samples had a delay below ${delayLimit * 1e3} ms`,
    );
  }
  return problems;
}

/** Offset statistics of the answered samples with a delay below `maxDelaySeconds`, microseconds. */
export function offsetSummaryMicros(
  samples: readonly ServedSample[],
  maxDelaySeconds = 0.001,
): { n: number; meanUs: number; maxAbsUs: number } {
  const offsets = samples
    .filter((s): s is AnsweredSample => s.answered && s.delaySeconds < maxDelaySeconds)
    .map((s) => s.offsetSeconds * 1e6);
  const n = offsets.length;
  return {
    n,
    meanUs: n === 0 ? NaN : offsets.reduce((a, b) => a + b, 0) / n,
    maxAbsUs: n === 0 ? NaN : Math.max(...offsets.map(Math.abs)),
  };
}
