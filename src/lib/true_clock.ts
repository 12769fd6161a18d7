// The library's TrueClock: the daemon's time keeping (polling, filters, selection, KoD) run over a soft clock, so a program reads the true time whatever its machine's clock says.
import { ConfigError, formatDiagnostic, parseConfigText } from "../config/mod.ts";
import { formatRefid } from "../core/packet/refid.ts";
import { createSoftClock, type SoftClockDriver } from "../io/clock_soft.ts";
import { realtimeSourceKind } from "../io/clock_realtime.ts";
// Imported, not loaded on demand: a dynamic import of a local module needs --allow-read.
import { openDgramSocket } from "../io/udp_client_portable.ts";
import { startTimeKeeping, type TimeKeeping } from "../daemon/time_keeping.ts";
import { type LocalClock, localClockReader } from "./local_clock.ts";

/** Options of {@link TrueClock.start}. */
export interface TrueClockOptions {
  /** Servers: "host", "host:port", "[2001:db8::1]:123". At least one server or pool. */
  readonly servers?: readonly string[];
  /** Pool names ("pool.ntp.org"): up to 10 of their addresses are used. */
  readonly pools?: readonly string[];
  /**
   * Shortest and longest poll interval, log2 seconds (defaults 6 and 10: 64 s to 17 min, as
   * ntpd and chrony; public servers expect no more). After a burst at start (iburst), polls back
   * off from the shortest to the longest as the clock settles.
   */
  readonly minPollLog2?: number;
  /** The longest poll interval, log2 seconds (see minPollLog2). */
  readonly maxPollLog2?: number;
  /** The local clock, epoch milliseconds; default the system clock (tests pass a wrong one). */
  readonly localClock?: LocalClock;
  /** Called after each change of the estimate (a new offset, frequency or sync state). */
  readonly onChange?: (state: TrueClockState) => void;
}

/** One server as the clock sees it. */
export interface TrueClockServer {
  /** As configured ("pool.ntp.org", "192.0.2.1:1123"). */
  readonly name: string;
  /** The address polled. */
  readonly address: string;
  /** The UDP port polled. */
  readonly port: number;
  /** The last 8 polls answered, as ntpq's octal reach (0o377: all 8). */
  readonly reach: number;
  /**
   * Its time minus this clock's (the corrected, true time), seconds: near 0 for a server that
   * agrees, the error of a falseticker.
   */
  readonly offsetSeconds: number;
  /** Round trip to it, seconds. */
  readonly delaySeconds: number;
  /** Its stratum (16 until it answered as synchronised). */
  readonly stratum: number;
  /** Its reference id as ntpq shows it. */
  readonly referenceId: string;
  /**
   * ntpq's tally: "*" the one followed, "+" combined, "-" outlier, "x" falseticker, " " not
   * usable (yet), "#" backup.
   */
  readonly tally: string;
  /** The kiss code that made it stop asking this server (DENY, RSTR), or null. */
  readonly kissOfDeath: string | null;
}

/** What the clock knows. */
export interface TrueClockState {
  /** True once enough servers agree (the first within about 10 s of start with iburst). */
  readonly synchronised: boolean;
  /** True time minus the local clock, seconds (0 until synchronised). */
  readonly offsetSeconds: number;
  /**
   * How far `now()` may be from true time, seconds: the root distance (half the round trip
   * to the reference clocks plus their dispersion, grown since the last update); Infinity while
   * unsynchronised.
   */
  readonly errorBoundSeconds: number;
  /** The servers' stratum plus one; 16 while unsynchronised. */
  readonly stratum: number;
  /** Every server polled. */
  readonly servers: readonly TrueClockServer[];
}

function upstreamToml(kind: "server" | "pool", address: string, options: TrueClockOptions) {
  return [
    `[[${kind}]]`,
    `address = ${JSON.stringify(address)}`,
    "iburst = true",
    `minpoll = ${options.minPollLog2 ?? 6}`,
    `maxpoll = ${options.maxPollLog2 ?? 10}`,
    "",
  ].join("\n");
}

/**
 * True time for a program, from NTP servers, whatever the machine's clock says: polls the servers
 * politely (iburst, then 64 s backing off to 17 min; a Kiss-o'-Death is obeyed), keeps the best
 * estimate of the local clock's offset and drift with the daemon's own filters and selection
 * (falsetickers outvoted), and never changes the system clock. Needs only `--allow-net` (portable
 * UDP, `Date.now()`: about 1 ms resolution). Stop it when done: no timer or socket is left.
 *
 * @example
 * ```ts
 * import { TrueClock } from "./true_clock.ts";
 * await using clock = await TrueClock.start({ pools: ["pool.ntp.org"] });
 * await clock.synchronisation(AbortSignal.timeout(30_000));
 * console.log(clock.now().toISOString(), `+- ${clock.state().errorBoundSeconds} s`);
 * ```
 */
export class TrueClock implements AsyncDisposable {
  readonly #clock: SoftClockDriver;
  readonly #readLocal: () => { unixSeconds: number; nanoseconds: number };
  #timeKeeping: TimeKeeping | null = null;
  readonly #waiters = new Set<() => void>();
  readonly #onChange: ((state: TrueClockState) => void) | undefined;
  #stopping: Promise<void> | undefined;

  private constructor(options: TrueClockOptions) {
    this.#readLocal = localClockReader(options.localClock);
    this.#clock = createSoftClock({ kernel: { readRealtime: this.#readLocal } });
    this.#onChange = options.onChange;
  }

  /**
   * Starts polling. Resolves once the sockets are open (not once synchronised: see
   * {@link TrueClock.synchronisation}).
   *
   * @throws {TypeError} When no server or pool is given, or one is malformed (the message names
   * it).
   */
  static async start(options: TrueClockOptions): Promise<TrueClock> {
    const text = [
      ...(options.servers ?? []).map((s) => upstreamToml("server", s, options)),
      ...(options.pools ?? []).map((p) => upstreamToml("pool", p, options)),
    ].join("\n");
    if (text === "") throw new TypeError("TrueClock: give at least one server or pool");
    let config;
    try {
      config = parseConfigText(text, { fileName: "TrueClock options", format: "toml" });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new TypeError(
        `TrueClock: ${error.diagnostics.map((d) => formatDiagnostic(d)).join("; ")}`,
      );
    }
    const clock = new TrueClock(options);
    const readClock = clock.#readLocal;
    clock.#timeKeeping = await startTimeKeeping({
      config,
      clock: clock.#clock,
      precisionLog2: realtimeSourceKind() === "date" ? -10 : -20,
      onChange: () => clock.#changed(),
      openSocket: (socketOptions) => openDgramSocket({ ...socketOptions, readClock }),
    });
    return clock;
  }

  /** The true time now: the local clock corrected by the estimate. */
  now(): Date {
    return new Date(this.nowMilliseconds());
  }

  /** The true time now, epoch milliseconds (with fractions). */
  nowMilliseconds(): number {
    const reading = this.#clock.now();
    return reading.unixSeconds * 1000 + reading.nanoseconds / 1e6;
  }

  /** True time minus the local clock, seconds (0 until synchronised). */
  get offsetSeconds(): number {
    // One reading, both ways: the correction alone, not the time between two readings.
    const local = this.#readLocal();
    const corrected = this.#clock.fromKernel(local);
    return corrected.unixSeconds - local.unixSeconds +
      (corrected.nanoseconds - local.nanoseconds) / 1e9;
  }

  /** Whether enough servers agree to trust {@link TrueClock.now}. */
  get synchronised(): boolean {
    return this.#timeKeeping?.synchronised() !== undefined;
  }

  /** Everything the clock knows, at this moment. */
  state(): TrueClockState {
    const view = this.#timeKeeping?.view();
    const synced = this.#timeKeeping?.synchronised();
    return {
      synchronised: synced !== undefined,
      offsetSeconds: this.offsetSeconds,
      errorBoundSeconds: synced === undefined
        ? Infinity
        : synced.rootDelaySeconds / 2 + synced.rootDispersionSeconds,
      stratum: synced?.stratum ?? 16,
      servers: (view?.associations ?? []).map((a) => ({
        name: a.endpoint.name,
        address: a.endpoint.hostname,
        port: a.endpoint.port,
        reach: a.reach,
        offsetSeconds: a.offsetSeconds,
        delaySeconds: a.delaySeconds,
        stratum: a.stratum,
        referenceId: formatRefid(a.referenceId, a.stratum),
        tally: a.tally,
        kissOfDeath: a.demobilisedBy,
      })),
    };
  }

  /**
   * Resolves once synchronised (at once when it is); rejects with `signal`'s reason when it
   * aborts first, or when the clock is stopped.
   */
  synchronisation(signal?: AbortSignal): Promise<void> {
    if (this.synchronised) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        this.#waiters.delete(check);
        signal?.removeEventListener("abort", onAbort);
      };
      const check = () => {
        if (this.#stopping !== undefined) {
          done();
          reject(new Error("TrueClock stopped before it synchronised"));
        } else if (this.synchronised) {
          done();
          resolve();
        }
      };
      const onAbort = () => {
        done();
        reject(signal!.reason);
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(check);
    });
  }

  /** Stops polling and closes the sockets; no timer is left. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#timeKeeping?.close();
      for (const waiter of [...this.#waiters]) waiter();
    })();
    return this.#stopping;
  }

  /** Stops the clock (`await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  #changed(): void {
    if (this.#stopping !== undefined) return;
    for (const waiter of [...this.#waiters]) waiter();
    if (this.#onChange !== undefined && this.#timeKeeping !== null) this.#onChange(this.state());
  }
}
