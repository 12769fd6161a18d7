// The time keeper's settings, state, actions and events: what every part of the client side shares (time_keeper.ts drives it, peer_figures.ts and time_keeper_status.ts read it).
import type { ClockSyncStatus } from "./clock_sync_status.ts";
import type {
  ClockAction,
  DisciplineEvent,
  DisciplineSettings,
  DisciplineState,
} from "../discipline/clock_discipline.ts";
import type { SelectionResult } from "../discipline/select_sources.ts";
import type { SystemReference } from "../discipline/system_reference.ts";
import type { AssociationConfig, AssociationEvent, AssociationState } from "./association.ts";

/** Everything the time keeper is configured with. */
export interface TimeKeeperSettings {
  readonly associations: readonly AssociationConfig[];
  /** `tos minsane` (default 1). */
  readonly minSane: number;
  /** `tos minclock` (default 3). */
  readonly minClock: number;
  /** `tos maxclock` (default 10). */
  readonly maxClock: number;
  readonly discipline: DisciplineSettings;
  /** Local clock precision, log2 seconds. */
  readonly precisionLog2: number;
  /** Frequency from the drift file, ppm, or null when there is none. */
  readonly driftPpm: number | null;
  /** The frequency the clock driver runs at now (getFrequencyPpm()), ppm. */
  readonly currentFrequencyPpm: number;
  /** Seed for poll jitter (any integer; the daemon may take it from crypto.getRandomValues). */
  readonly randomSeed: number;
  /** refids of our own addresses: a source reporting one of them is synchronised to us (a loop). */
  readonly localReferenceIds: readonly number[];
  /** Longest wait after the first sample for the other sources before selecting, seconds (default 3). */
  readonly startupWaitSeconds: number;
}

/** Something worth logging; each is returned once, when it happens. */
export type TimeKeeperEvent =
  | AssociationEvent
  | DisciplineEvent
  | {
    readonly kind: "systemPeerChanged";
    readonly associationId: number | null;
    readonly previousAssociationId: number | null;
  }
  | { readonly kind: "synchronised"; readonly stratum: number; readonly referenceId: number }
  | {
    readonly kind: "unsynchronised";
    readonly reason: "stepped" | "panic" | "rootDistance" | "notYet";
  };

/** What the daemon must do; see the file header. */
export type TimeKeeperAction =
  | { readonly kind: "send"; readonly associationId: number; readonly request: Uint8Array }
  | { readonly kind: "setTimer"; readonly atMonotonicSeconds: number }
  | ClockAction
  | { readonly kind: "setSyncStatus"; readonly status: ClockSyncStatus }
  | { readonly kind: "event"; readonly event: TimeKeeperEvent };

/** The whole state. Treat as read-only; use the functions of time_keeper.ts. */
export interface TimeKeeperState {
  readonly settings: TimeKeeperSettings;
  readonly startMonotonicSeconds: number;
  readonly associations: readonly AssociationState[];
  readonly discipline: DisciplineState;
  readonly selection: SelectionResult | null;
  readonly selectionOpen: boolean;
  readonly firstSampleMonotonicSeconds: number | null;
  readonly reference: SystemReference | null;
  readonly synchronised: boolean;
}

/** The result of every transition. */
export interface TimeKeeperOutput {
  readonly state: TimeKeeperState;
  readonly actions: readonly TimeKeeperAction[];
}

/** `tos` defaults (ntpd's). */
export const DEFAULT_TOS = Object.freeze({ minSane: 1, minClock: 3, maxClock: 10 });

/** Default wait for the other sources at startup, seconds. */
export const DEFAULT_STARTUP_WAIT_SECONDS = 3;
