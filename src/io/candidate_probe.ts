// Probes candidate upstreams politely and in parallel: resolves each, then a few requests 2 s apart per server, kernel-timestamped.
import type { Candidate } from "../core/pick/candidate.ts";
import type { ProbeOutcome } from "../core/pick/candidate_figures.ts";
import { answersRequest, buildExchangeRequest } from "../core/client/exchange.ts";
import { judgeProbeReply, type ProbeSample } from "../core/pick/probe_sample.ts";
import { ntpFromUnix, type NtpTimestamp } from "../core/time/ntp_timestamp.ts";
import type { ClockReading } from "./clock_driver.ts";
import { openUpstreamSocket, type UpstreamDatagram, type UpstreamSocket } from "./udp_client.ts";
import { type ResolveOutcome, resolveServerName } from "./resolve_name.ts";

/** Requests sent to each candidate by default. */
export const DEFAULT_PROBE_SAMPLES = 4;
/** Spacing of the requests to one server, seconds; also how long each waits for its answer. */
export const PROBE_SPACING_SECONDS = 2;

/** How far a probe run has got. */
export interface ProbeProgress {
  readonly candidates: number;
  /** Candidates resolved so far (or given up on). */
  readonly resolved: number;
  /** Requests sent so far, and the most that will be sent. */
  readonly sent: number;
  readonly planned: number;
  /** Valid time replies so far. */
  readonly answered: number;
}

/** Options of {@link probeCandidates}. */
export interface ProbeOptions {
  /** Requests per server (default 4); a Kiss-o'-Death ends them early. */
  readonly samples?: number;
  /** Seconds between requests to one server, at least 2 (default 2). */
  readonly spacingSeconds?: number;
  /** Only IPv4 or only IPv6 addresses; null for either (IPv4 first). */
  readonly family?: 4 | 6 | null;
  /**
   * Maps a kernel (CLOCK_REALTIME) reading to the clock the offsets are measured against
   * (default: as it is; the daemon passes its clock driver's fromKernel()).
   */
  readonly fromKernel?: (reading: ClockReading) => NtpTimestamp;
  /** Precision of that clock, log2 seconds (default -20). */
  readonly precisionLog2?: number;
  /** Aborting stops every probe at once; what was measured so far is returned. */
  readonly signal?: AbortSignal;
  /** Called after each step (resolution, request, reply). */
  readonly onProgress?: (progress: ProbeProgress) => void;
  /** Name resolution (default resolveServerName: hosts file, then DNS). */
  readonly resolve?: (name: string, options: { family: 4 | 6 | null }) => Promise<ResolveOutcome>;
}

/** Resolves after `ms` or when `signal` aborts, whichever is first. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** A raw exchange: T1 and T4 on the kernel clock (uncorrected), the reply if one came. */
interface RawExchange {
  readonly sentKernel: ClockReading | null;
  readonly reply: Uint8Array | null;
  readonly receivedKernel: ClockReading | null;
}

/**
 * One upstream socket per family (kernel receive timestamps, as the daemon's), shared by every
 * probe; replies go to the exchange waiting on their source address and port.
 */
function probeSockets(signal: AbortSignal | undefined): {
  exchange(
    to: { readonly hostname: string; readonly port: number },
    request: Uint8Array,
    timeoutMs: number,
  ): Promise<RawExchange>;
  close(): Promise<void>;
} {
  const waiting = new Map<string, (datagram: UpstreamDatagram) => void>();
  const sockets = new Map<4 | 6, Promise<UpstreamSocket | null>>();
  const socketFor = (family: 4 | 6) => {
    let socket = sockets.get(family);
    if (socket === undefined) {
      socket = openUpstreamSocket({
        family,
        onDatagram: (datagram) =>
          waiting.get(`${datagram.from.hostname}|${datagram.from.port}`)?.(datagram),
      }).catch(() => null);
      sockets.set(family, socket);
    }
    return socket;
  };
  return {
    exchange: async (to, request, timeoutMs) => {
      const socket = await socketFor(to.hostname.includes(":") ? 6 : 4);
      const key = `${to.hostname}|${to.port}`;
      return await new Promise<RawExchange>((resolve) => {
        let sentKernel: ClockReading | null = null;
        const finish = (datagram: UpstreamDatagram | null) => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", abort);
          waiting.delete(key);
          resolve({
            sentKernel,
            reply: datagram?.data ?? null,
            receivedKernel: datagram?.receiveKernel ?? null,
          });
        };
        const abort = () => finish(null);
        const timer = setTimeout(abort, timeoutMs);
        signal?.addEventListener("abort", abort, { once: true });
        waiting.set(key, (datagram) => {
          if (answersRequest(datagram.data, request)) finish(datagram);
        });
        const sent = socket?.send(request, to);
        if (sent?.ok) sentKernel = sent.transmitKernel;
        else finish(null);
      });
    },
    close: async () => {
      for (const socket of sockets.values()) await (await socket)?.close();
    },
  };
}

/**
 * Resolves every candidate (in parallel), leaves out those that do not resolve and repeats of an
 * address already listed, then probes the rest all at once: `samples` requests per server,
 * `spacingSeconds` apart (never faster than one every 2 s), each waiting until the next is due
 * for its answer. A Kiss-o'-Death stops the requests to that server. Never throws for a
 * server's failure: it shows in its outcome.
 *
 * @example
 * ```ts
 * import { parseCandidateList } from "../config/candidate_list.ts";
 * const { candidates } = parseCandidateList(await Deno.readTextFile("/etc/ntp/candidates.txt"));
 * const outcomes = await probeCandidates(candidates, { onProgress: (p) => console.error(p) });
 * ```
 */
export async function probeCandidates(
  candidates: readonly Candidate[],
  options: ProbeOptions = {},
): Promise<ProbeOutcome[]> {
  const samples = Math.max(1, Math.floor(options.samples ?? DEFAULT_PROBE_SAMPLES));
  const spacingMs =
    Math.max(PROBE_SPACING_SECONDS, options.spacingSeconds ?? PROBE_SPACING_SECONDS) *
    1000;
  const family = options.family ?? null;
  const fromKernel = options.fromKernel ??
    ((reading: ClockReading) => ntpFromUnix(reading.unixSeconds, reading.nanoseconds));
  const precisionLog2 = options.precisionLog2 ?? -20;
  const resolve = options.resolve ?? ((name, o) => resolveServerName(name, o));
  const progress = {
    candidates: candidates.length,
    resolved: 0,
    sent: 0,
    planned: candidates.length * samples,
    answered: 0,
  };
  const report = () => options.onProgress?.({ ...progress });

  const resolutions = await Promise.all(candidates.map(async (candidate) => {
    const outcome = await resolve(candidate.host, { family });
    progress.resolved++;
    if (progress.resolved < candidates.length) report();
    return outcome;
  }));
  const firstAt = new Map<string, Candidate>();
  const plans = candidates.map((candidate, index): ProbeOutcome => {
    const resolved = resolutions[index]!;
    if (!resolved.ok) {
      return {
        candidate,
        address: null,
        skipped: { kind: "unresolved", message: resolved.message },
        samples: [],
      };
    }
    const address = resolved.addresses[0]!.hostname;
    const key = `${address}|${candidate.port}`;
    const first = firstAt.get(key);
    if (first !== undefined) {
      return { candidate, address, skipped: { kind: "duplicate", of: first }, samples: [] };
    }
    firstAt.set(key, candidate);
    return { candidate, address, skipped: null, samples: [] };
  });
  progress.planned = plans.filter((p) => p.skipped === null).length * samples;
  report();

  const probing = plans.filter((p) => p.skipped === null && p.address !== null);
  const sockets = probeSockets(options.signal);
  try {
    return await Promise.all(plans.map(async (plan): Promise<ProbeOutcome> => {
      if (plan.skipped !== null || plan.address === null) return plan;
      const to = { hostname: plan.address, port: plan.candidate.port };
      const taken: ProbeSample[] = [];
      // Start times spread over one spacing, so that the servers' answers do not all come at once.
      let lastSentMs = performance.now() - spacingMs +
        (spacingMs * probing.indexOf(plan)) / Math.max(1, probing.length);
      for (let i = 0; i < samples && !options.signal?.aborted; i++) {
        while (performance.now() < lastSentMs + spacingMs && !options.signal?.aborted) {
          await pause(lastSentMs + spacingMs - performance.now() + 1, options.signal);
        }
        if (options.signal?.aborted) break;
        const request = buildExchangeRequest(crypto.getRandomValues(new Uint8Array(8)));
        lastSentMs = performance.now();
        progress.sent++;
        report();
        const raw = await sockets.exchange(to, request, spacingMs);
        if (options.signal?.aborted && raw.reply === null) break;
        const sample = raw.sentKernel === null ? { kind: "noAnswer" as const } : judgeProbeReply({
          request,
          sentAt: fromKernel(raw.sentKernel),
          reply: raw.reply,
          receivedAt: raw.receivedKernel === null ? null : fromKernel(raw.receivedKernel),
        }, { localPrecisionLog2: precisionLog2 });
        taken.push(sample);
        if (sample.kind === "ok") progress.answered++;
        report();
        if (sample.kind === "kissOfDeath") {
          progress.planned -= samples - 1 - i;
          break;
        }
      }
      return { ...plan, samples: taken };
    }));
  } finally {
    await sockets.close();
  }
}
