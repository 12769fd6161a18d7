// The log lines of the time keeper's events: what each means to an operator, at which level.
import type { TimeKeeperEvent } from "../core/client/time_keeper.ts";
import { formatRefid } from "../core/packet/refid.ts";

/**
 * The log line for a time keeper event: its level and text, naming associations with `nameOf`.
 *
 * @example
 * ```ts
 * const { level, text } = describeEvent({ kind: "reachable", associationId: 1 }, (id) => `#${id}`);
 * // "info", "#1 is reachable"
 * ```
 */
export function describeEvent(
  event: TimeKeeperEvent,
  nameOf: (associationId: number | null) => string,
): { level: "info" | "warning"; text: string } {
  switch (event.kind) {
    case "reachable":
      return { level: "info", text: `${nameOf(event.associationId)} is reachable` };
    case "unreachable":
      return {
        level: "warning",
        text: `${nameOf(event.associationId)} is unreachable: no valid reply to the last 8 polls`,
      };
    case "kissOfDeath":
      return {
        level: "warning",
        text: `${nameOf(event.associationId)} sent Kiss-o'-Death ${event.code}; polling every ${
          2 ** event.pollLog2
        } s`,
      };
    case "demobilised":
      return {
        level: "warning",
        text: `${nameOf(event.associationId)} sent Kiss-o'-Death ${event.code}; no longer polled`,
      };
    case "systemPeerChanged":
      return {
        level: "info",
        text: event.associationId === null
          ? `no system peer (was ${nameOf(event.previousAssociationId)})`
          : `system peer is now ${nameOf(event.associationId)}`,
      };
    case "synchronised":
      return {
        level: "info",
        text: `synchronised at stratum ${event.stratum}, refid ${
          formatRefid(event.referenceId, event.stratum)
        }`,
      };
    case "unsynchronised":
      return { level: "warning", text: `not synchronised (${event.reason})` };
    case "clockStepped":
      return { level: "info", text: `clock stepped by ${event.offsetSeconds.toFixed(6)} s` };
    case "spikeDetected":
      return {
        level: "warning",
        text: `offset ${
          event.offsetSeconds.toFixed(6)
        } s over the step threshold: ignored unless it persists (stepout)`,
      };
    case "panic":
      return {
        level: "warning",
        text:
          `offset ${
            event.offsetSeconds.toFixed(3)
          } s exceeds the panic threshold ${event.thresholdSeconds} s: ` +
          `refusing to step the clock; set it by hand or raise [tinker] panic (0 = no limit)`,
      };
    case "panicCleared":
      return {
        level: "info",
        text: `offset back to ${event.offsetSeconds.toFixed(6)} s, below the panic threshold`,
      };
    case "priorContradicted":
      return {
        level: "warning",
        text: `${event.origin === "driftFile" ? "drift file" : "previous"} frequency ${
          event.priorPpm.toFixed(3)
        } ppm contradicted by the measurements (${event.measuredPpm.toFixed(3)} +- ${
          event.measuredErrorPpm.toFixed(3)
        } ppm): using the measurements`,
      };
    case "clockChanged":
      return {
        level: "warning",
        text: `the clock moved away from every source (newest sample ${
          (event.residualSeconds * 1e3).toFixed(3)
        } ms off): frequency ${event.fromPpm.toFixed(3)} -> ${
          event.toPpm.toFixed(3)
        } ppm, older samples dropped`,
      };
  }
}
