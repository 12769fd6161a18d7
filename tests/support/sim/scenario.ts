// The scenario runner: drives the real time keeper against the fake clock, network and servers over virtual hours, and reports series and statistics.
//
// It plays the daemon's part exactly as src/core/client/time_keeper.ts asks (write T1 into the
// request, report it with onTransmitted, carry out setTimer/setFrequency/step/setSyncStatus),
// so it doubles as a reference for wiring the core to real sockets and clocks.
import {
  type AssociationStatus,
  associationStatuses,
  createTimeKeeper,
  DEFAULT_STARTUP_WAIT_SECONDS,
  DEFAULT_TOS,
  estimatedError,
  onPacket,
  onTimer,
  onTransmitted,
  systemStatus,
  type TimeKeeperAction,
  type TimeKeeperEvent,
  type TimeKeeperSettings,
  type TimeKeeperState,
} from "../../../src/core/client/time_keeper.ts";
import type { AssociationConfig, PacketVerdict } from "../../../src/core/client/association.ts";
import { TRANSMIT_TIMESTAMP_OFFSET } from "../../../src/core/client/client_request.ts";
import {
  defaultDisciplineSettings,
  type DisciplineSettings,
} from "../../../src/core/discipline/clock_discipline.ts";
import { writeTimestamp } from "../../../src/core/time/ntp_timestamp.ts";
import { createEventQueue } from "./event_queue.ts";
import { createRandom } from "./random.ts";
import {
  createSimulatedClock,
  type SimulatedClock,
  type SimulatedClockOptions,
} from "./sim_clock.ts";
import { createLink, type LinkOptions } from "./sim_network.ts";
import { createSimulatedKernel } from "../simulated_kernel.ts";
import { createKernelClock } from "../../../src/io/clock_kernel.ts";
import type { ClockDriver } from "../../../src/io/clock_driver.ts";
import { createSimServer, type SimServer, type SimServerOptions } from "./sim_server.ts";
import {
  emptyLeapWindow,
  observeLeapAnnouncement,
  pendingLeapUnixSeconds,
} from "../../../src/core/leap/leap_window.ts";
import { kernelLeapBits, SoftLeapSecond } from "../../../src/daemon/soft_leap.ts";
import { leapSmearFor, smearOffsetSeconds } from "../../../src/core/leap/leap_smear.ts";
import type { DaemonTime, TimerHandle } from "../../../src/daemon/daemon_time.ts";

/** Association options a scenario may change (defaults: iburst on, minpoll 6, maxpoll 10). */
export type ScenarioAssociationOptions = Partial<
  Pick<
    AssociationConfig,
    "iburst" | "burst" | "prefer" | "noselect" | "minPollLog2" | "maxPollLog2"
  >
>;

/** One upstream: the server, its path and how we configure it. */
export interface ScenarioServer {
  readonly server: Omit<SimServerOptions, "address"> & { readonly address?: Uint8Array };
  readonly link?: LinkOptions;
  readonly association?: ScenarioAssociationOptions;
}

/** A whole scenario. */
export interface ScenarioOptions {
  readonly servers: readonly ScenarioServer[];
  readonly clock?: SimulatedClockOptions;
  /** Virtual seconds to run. */
  readonly durationSeconds: number;
  readonly seed?: number;
  readonly tos?: Partial<typeof DEFAULT_TOS>;
  readonly discipline?: Partial<DisciplineSettings>;
  /** Drift file value, ppm, or null (default) for none. */
  readonly driftPpm?: number | null;
  /** Local precision, log2 seconds (default -20). */
  readonly precisionLog2?: number;
  /** Sampling interval of the series after the first minute, seconds (default 16). */
  readonly sampleIntervalSeconds?: number;
  /**
   * How the time keeper's clock actions reach the fake clock: "simulated" calls it directly (as
   * the soft clock is driven), "kernel" goes through the real kernel driver (src/io/
   * clock_kernel.ts) and a simulated kernel's timex interface on top of the same fake clock.
   * Default "simulated".
   */
  readonly driver?: "simulated" | "kernel";
  /** Things done to the world at given true times (e.g. an external clock jump). */
  readonly interventions?: readonly {
    readonly atSeconds: number;
    readonly run: (clock: SimulatedClock) => void;
  }[];
  /**
   * Leap seconds as the daemon handles them (src/daemon/serve.ts): the announcement decided from
   * the upstreams' vote at the local clock's Unix time (default: the vote as it is) goes to
   * setSyncStatus (the kernel driver sets STA_INS/STA_DEL, and the simulated kernel inserts or
   * deletes the second as CLOCK_REALTIME reaches it) or, with the simulated driver, to the
   * daemon's SoftLeapSecond, which steps the clock; replies within 5 s of the leap are dropped.
   * Absent: none of this runs.
   */
  readonly leap?: {
    readonly decide?: (voted: 0 | 1 | 2, unixSeconds: number) => 0 | 1 | 2;
    /**
     * Leap smearing, seconds (0 = off): as the daemon does then, the kernel is not told
     * (STA_INS/STA_DEL) and SoftLeapSecond steps it, publishing "stepping" 20 ms before; the
     * series reports the smear a smearing listener would add.
     */
    readonly smearSeconds?: number;
  };
  /** Extra true times at which the series is sampled (e.g. densely around a leap). */
  readonly recordAtSeconds?: readonly number[];
}

/** One sample of the truth. */
export interface SeriesPoint {
  readonly trueSeconds: number;
  /** Local minus true time, seconds. */
  readonly offsetSeconds: number;
  /** Error of the discipline's frequency estimate: intrinsic error + correction estimate, ppm. */
  readonly frequencyErrorPpm: number;
  readonly synchronised: boolean;
  readonly systemPeerId: number;
  readonly leap: number;
  readonly stratum: number;
  readonly rootDispersionSeconds: number;
  /** Root delay, seconds: root distance = root delay / 2 + root dispersion. */
  readonly rootDelaySeconds: number;
  /** The kernel-style estimated error the time keeper publishes now (setSyncStatus), seconds. */
  readonly estimatedErrorSeconds: number;
  /** With the kernel driver: the simulated kernel's maxerror and esterror now, seconds. */
  readonly kernelMaxErrorSeconds: number | null;
  readonly kernelEstErrorSeconds: number | null;
  /** The association polls, log2 seconds, in configuration order. */
  readonly pollsLog2: readonly number[];
  /** The local clock's Unix time now (what it serves), seconds. */
  readonly localUnixSeconds: number;
  /** The leap indicator served now: 3 unsynchronised, else the decided announcement. */
  readonly servedLeap: number;
  /** What a smearing listener adds to the local time now, seconds (0 without smearing). */
  readonly smearOffsetSeconds: number;
}

/** Summary statistics over a window of the series. */
export interface ScenarioStats {
  readonly samples: number;
  readonly rmsOffsetSeconds: number;
  readonly maxAbsOffsetSeconds: number;
  readonly rmsFrequencyErrorPpm: number;
  readonly maxAbsFrequencyErrorPpm: number;
}

/** Everything a scenario produced. */
export interface ScenarioResult {
  readonly series: readonly SeriesPoint[];
  readonly events: readonly { readonly trueSeconds: number; readonly event: TimeKeeperEvent }[];
  /** First true time with a system peer, LI 0, synchronised and |offset| < 1 ms; null if never. */
  readonly firstSyncSeconds: number | null;
  readonly clock: SimulatedClock;
  readonly keeper: TimeKeeperState;
  readonly servers: readonly SimServer[];
  /** Requests sent per association, in configuration order. */
  readonly sentPackets: readonly number[];
  /** True send times of each association's requests, in configuration order. */
  readonly sendTimes: readonly (readonly number[])[];
  /** How the received packets were judged. */
  readonly verdicts: Readonly<Record<string, number>>;
  /** Association statuses at the end. */
  readonly finalStatuses: readonly AssociationStatus[];
  /** Statistics over true time [fromSeconds, toSeconds] (default: to the end). */
  stats(fromSeconds: number, toSeconds?: number): ScenarioStats;
}

function defaultAddress(index: number): Uint8Array {
  return new Uint8Array([10, 0, 0, index + 1]);
}

/**
 * Runs a scenario to its end (virtual time; a six-hour run takes well under a second).
 *
 * @example
 * ```ts
 * const result = runScenario({ servers: [{ server: {} }], durationSeconds: 3600 });
 * result.stats(1800).rmsOffsetSeconds;
 * ```
 */
export function runScenario(options: ScenarioOptions): ScenarioResult {
  const seed = options.seed ?? 1;
  const clock = createSimulatedClock({ seed: seed + 7, ...options.clock });
  const queue = createEventQueue(0);
  const servers = options.servers.map((s, i) =>
    createSimServer(
      {
        ...(options.clock?.epochUnixSeconds === undefined
          ? {}
          : { epochUnixSeconds: options.clock.epochUnixSeconds }),
        ...s.server,
        address: s.server.address ?? defaultAddress(i),
      },
      createRandom(seed * 31 + 100 + i),
    )
  );
  const links = options.servers.map((s, i) =>
    createLink(s.link ?? {}, createRandom(seed * 31 + 200 + i))
  );
  const associations: AssociationConfig[] = options.servers.map((s, i) => ({
    id: i + 1,
    address: (servers[i] as SimServer).address,
    version: 4,
    minPollLog2: 6,
    maxPollLog2: 10,
    iburst: true,
    burst: false,
    prefer: false,
    noselect: false,
    ...s.association,
  }));
  const settings: TimeKeeperSettings = {
    associations,
    ...DEFAULT_TOS,
    ...options.tos,
    discipline: { ...defaultDisciplineSettings, ...options.discipline },
    precisionLog2: options.precisionLog2 ?? -20,
    driftPpm: options.driftPpm ?? null,
    currentFrequencyPpm: clock.getFrequencyPpm(),
    randomSeed: seed,
    localReferenceIds: [],
    startupWaitSeconds: DEFAULT_STARTUP_WAIT_SECONDS,
  };
  const series: SeriesPoint[] = [];
  const events: { trueSeconds: number; event: TimeKeeperEvent }[] = [];
  const sent = associations.map(() => 0);
  const sendTimes: number[][] = associations.map(() => []);
  const verdicts: Record<string, number> = {};
  let firstSyncSeconds: number | null = null;
  let timerGeneration = 0;

  const kernel = options.driver === "kernel"
    ? createSimulatedKernel({
      oscillator: clock,
      initial: { freq: Math.round(clock.getFrequencyPpm() * 65536) },
    })
    : null;
  const kernelDriver = kernel === null ? null : createKernelClock({ access: kernel.access });
  kernelDriver?.initialise();
  let kernelTrueSeconds = 0;
  const kernelState = () => {
    if (kernel === null) return null;
    kernel.advanceSeconds(clock.trueSeconds - kernelTrueSeconds);
    kernelTrueSeconds = clock.trueSeconds;
    return kernel.state;
  };
  const driver: Pick<
    ClockDriver,
    "setFrequencyPpm" | "stepSeconds" | "setSyncStatus" | "getFrequencyPpm"
  > = kernelDriver ?? clock;

  // Leap seconds (options.leap): the decision, the window of dropped replies, and who executes it.
  const localUnixSeconds = () => {
    const now = clock.now();
    return now.unixSeconds + now.nanoseconds / 1e9;
  };
  let leapWindow = emptyLeapWindow;
  const decideLeap = (voted: 0 | 1 | 2): 0 | 1 | 2 => {
    const unixSeconds = localUnixSeconds();
    const decided = options.leap?.decide?.(voted, unixSeconds) ?? voted;
    leapWindow = observeLeapAnnouncement(leapWindow, decided, unixSeconds);
    return decided;
  };
  const simTime = simulatedDaemonTime(queue, clock);
  const smearSeconds = options.leap?.smearSeconds ?? 0;
  const softLeap = options.leap === undefined
    ? null
    : kernelDriver === null
    ? new SoftLeapSecond({ clock, onStep: () => {}, time: simTime })
    : smearSeconds > 0
    ? new SoftLeapSecond({
      clock: kernelDriver,
      onStep: () => {},
      beforeStep: () => {},
      settleMs: 20,
      time: simTime,
    })
    : null;
  const kernelBits = kernelLeapBits(decideLeap, {
    smearing: kernelDriver !== null && smearSeconds > 0,
  });
  const smearNow = () =>
    smearSeconds > 0
      ? smearOffsetSeconds(
        localUnixSeconds(),
        leapSmearFor(softLeap?.pending() ?? null, smearSeconds),
      )
      : 0;
  const servedLeap = (): number => {
    const sys = systemStatus(keeper, { monotonicSeconds: clock.monotonicSeconds() });
    return sys.synchronised ? decideLeap(sys.leap as 0 | 1 | 2) : 3;
  };
  const announceLeap = () => {
    if (options.leap === undefined) return;
    const served = servedLeap();
    softLeap?.announced(served === 3 ? 0 : served as 0 | 1 | 2);
  };
  // The kernel's second_overflow as CLOCK_REALTIME reaches each whole second.
  const scheduleSecondOverflow = () => {
    const now = clock.now();
    const wait = (1 - now.nanoseconds / 1e9) / (1 + clock.rateErrorPpm() * 1e-6);
    queue.schedule(clock.trueSeconds + wait + 1e-8, () => {
      clock.advanceTo(queue.nowSeconds);
      // The rate may have changed since: a check that comes early waits for the second.
      if (clock.now().unixSeconds === now.unixSeconds) return scheduleSecondOverflow();
      kernelState();
      kernel?.secondOverflow();
      scheduleSecondOverflow();
    });
  };
  const created = createTimeKeeper(
    { ...settings, currentFrequencyPpm: driver.getFrequencyPpm() },
    { monotonicSeconds: clock.monotonicSeconds() },
  );
  let keeper = created.state;

  const checkSync = () => {
    if (firstSyncSeconds !== null) return;
    const sys = systemStatus(keeper, { monotonicSeconds: clock.monotonicSeconds() });
    if (
      sys.synchronised && sys.systemPeerAssociationId !== 0 && sys.leap === 0 &&
      Math.abs(clock.offsetSeconds()) < 1e-3
    ) {
      firstSyncSeconds = clock.trueSeconds;
    }
  };

  const clientArrival = (id: number, bytes: Uint8Array) => {
    clock.advanceTo(queue.nowSeconds);
    const out = onPacket(keeper, bytes, {
      associationId: id,
      receiveTime: clock.nowNtp(),
      monotonicSeconds: clock.monotonicSeconds(),
      leapUnixSeconds: options.leap === undefined
        ? null
        : pendingLeapUnixSeconds(leapWindow, localUnixSeconds()),
    });
    keeper = out.state;
    verdicts[out.verdict] = (verdicts[out.verdict] ?? 0) + 1;
    apply(out.actions);
  };

  const serverArrival = (index: number, bytes: Uint8Array) => {
    const now = queue.nowSeconds;
    const reply = (servers[index] as SimServer).respond(bytes, now);
    if (reply === null) return;
    const back = (links[index] as ReturnType<typeof createLink>).inbound(now + reply.holdSeconds);
    if (back === null) return;
    queue.schedule(now + reply.holdSeconds + back, () => clientArrival(index + 1, reply.bytes));
  };

  const scheduleTimer = (deadline: number, generation: number) => {
    const rate = 1 + clock.rateErrorPpm() * 1e-6;
    const wait = Math.max(0, deadline - clock.monotonicSeconds()) / rate;
    queue.schedule(clock.trueSeconds + wait + 1e-7, () => {
      if (generation !== timerGeneration) return;
      clock.advanceTo(queue.nowSeconds);
      if (clock.monotonicSeconds() < deadline) return scheduleTimer(deadline, generation);
      const out = onTimer(keeper, { monotonicSeconds: clock.monotonicSeconds() });
      keeper = out.state;
      apply(out.actions);
    });
  };

  function apply(actions: readonly TimeKeeperAction[]): void {
    for (const action of actions) {
      switch (action.kind) {
        case "send": {
          const index = action.associationId - 1;
          const bytes = action.request.slice();
          const transmitTime = clock.nowNtp();
          writeTimestamp(new DataView(bytes.buffer), TRANSMIT_TIMESTAMP_OFFSET, transmitTime);
          keeper = onTransmitted(keeper, { associationId: action.associationId, transmitTime });
          sent[index] = (sent[index] ?? 0) + 1;
          sendTimes[index]?.push(queue.nowSeconds);
          const now = queue.nowSeconds;
          const delay = (links[index] as ReturnType<typeof createLink>).outbound(now);
          if (delay !== null) queue.schedule(now + delay, () => serverArrival(index, bytes));
          break;
        }
        case "setTimer":
          scheduleTimer(action.atMonotonicSeconds, ++timerGeneration);
          break;
        case "setFrequency":
          driver.setFrequencyPpm(action.freqPpm);
          break;
        case "step":
          driver.stepSeconds(action.offsetSeconds);
          break;
        case "setSyncStatus": {
          kernelState();
          // As serve.ts: while smearing with the kernel clock the kernel is not told.
          const status = options.leap !== undefined && action.status.synchronised
            ? { ...action.status, leap: kernelBits(action.status.leap) }
            : action.status;
          driver.setSyncStatus(status);
          if (kernelDriver !== null) clock.setSyncStatus(status);
          break;
        }
        case "event":
          events.push({ trueSeconds: queue.nowSeconds, event: action.event });
          break;
      }
    }
    checkSync();
    announceLeap();
  }

  const record = () => {
    clock.advanceTo(queue.nowSeconds);
    const sys = systemStatus(keeper, { monotonicSeconds: clock.monotonicSeconds() });
    const kernelNow = kernelState();
    series.push({
      trueSeconds: clock.trueSeconds,
      offsetSeconds: clock.offsetSeconds(),
      frequencyErrorPpm: clock.intrinsicFrequencyPpm() + keeper.discipline.frequencyPpm,
      synchronised: sys.synchronised,
      systemPeerId: sys.systemPeerAssociationId,
      leap: sys.leap,
      stratum: sys.stratum,
      rootDispersionSeconds: sys.rootDispersionSeconds,
      rootDelaySeconds: sys.rootDelaySeconds,
      estimatedErrorSeconds: estimatedError(keeper, { monotonicSeconds: clock.monotonicSeconds() }),
      kernelMaxErrorSeconds: kernelNow === null ? null : kernelNow.maxerror / 1e6,
      kernelEstErrorSeconds: kernelNow === null ? null : kernelNow.esterror / 1e6,
      pollsLog2: keeper.associations.map((a) => a.poll.pollLog2),
      localUnixSeconds: localUnixSeconds(),
      servedLeap: options.leap === undefined ? sys.leap : servedLeap(),
      smearOffsetSeconds: smearNow(),
    });
    announceLeap();
  };
  const interval = options.sampleIntervalSeconds ?? 16;
  for (let t = 0; t <= options.durationSeconds; t += t < 60 ? 0.25 : interval) {
    queue.schedule(t, record);
  }
  for (const t of options.recordAtSeconds ?? []) queue.schedule(t, record);
  for (const intervention of options.interventions ?? []) {
    queue.schedule(intervention.atSeconds, () => {
      clock.advanceTo(queue.nowSeconds);
      intervention.run(clock);
    });
  }
  if (options.leap !== undefined && kernel !== null) scheduleSecondOverflow();
  apply(created.actions);
  queue.runUntil(options.durationSeconds);
  softLeap?.close();
  clock.advanceTo(options.durationSeconds);

  return {
    series,
    events,
    firstSyncSeconds,
    clock,
    keeper,
    servers,
    sentPackets: sent,
    sendTimes,
    verdicts,
    finalStatuses: associationStatuses(keeper, { monotonicSeconds: clock.monotonicSeconds() }),
    stats(fromSeconds, toSeconds = Infinity) {
      const window = series.filter((p) =>
        p.trueSeconds >= fromSeconds && p.trueSeconds <= toSeconds
      );
      const rms = (values: number[]) =>
        values.length === 0
          ? NaN
          : Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
      const offsets = window.map((p) => p.offsetSeconds);
      const freqs = window.map((p) => p.frequencyErrorPpm);
      return {
        samples: window.length,
        rmsOffsetSeconds: rms(offsets),
        maxAbsOffsetSeconds: Math.max(...offsets.map(Math.abs)),
        rmsFrequencyErrorPpm: rms(freqs),
        maxAbsFrequencyErrorPpm: Math.max(...freqs.map(Math.abs)),
      };
    },
  };
}

/**
 * The daemon's time (src/daemon/daemon_time.ts) in the simulation: the fake clock's monotonic
 * seconds, and timers on the event queue that run after that many seconds of it.
 */
function simulatedDaemonTime(
  queue: ReturnType<typeof createEventQueue>,
  clock: SimulatedClock,
): DaemonTime {
  let nextHandle = 1;
  const cancelled = new Set<number>();
  return {
    monotonicSeconds: () => clock.monotonicSeconds(),
    setTimer(callback, delayMs) {
      const handle = nextHandle++;
      const wait = delayMs / 1000 / (1 + clock.rateErrorPpm() * 1e-6);
      queue.schedule(clock.trueSeconds + wait + 1e-9, () => {
        if (cancelled.delete(handle)) return;
        clock.advanceTo(queue.nowSeconds);
        callback();
      });
      return handle as unknown as TimerHandle;
    },
    clearTimer(handle) {
      cancelled.add(handle as unknown as number);
    },
  };
}

/** A verdict count helper for assertions. */
export function verdictCount(result: ScenarioResult, verdict: PacketVerdict): number {
  return result.verdicts[verdict] ?? 0;
}
