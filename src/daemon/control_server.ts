// Answers mode 6 (ntpq, ntpstat, check_ntp_peer) requests that the responders forward, from a ControlView the daemon supplies.
import { answerControl, type ControlOutcome } from "../core/control/answer_control.ts";
import type { ControlView, MruEntry } from "../core/control/control_view.ts";
import type { ClientAddress } from "../core/server/types.ts";
import { ntpDiffSeconds, ntpFromUnix, type NtpTimestamp } from "../core/time/ntp_timestamp.ts";
import { chooseRealtimeReader } from "../io/clock_realtime.ts";
import { formatIp } from "../io/sockaddr.ts";
import type { Responders } from "../io/responders_types.ts";

/** Control clients remembered for `ntpq -c mrulist` (the least recently seen is forgotten first). */
const MAX_CONTROL_CLIENTS = 256;

/** Options of {@link attachControlServer}. */
export interface ControlServerOptions {
  /** The state to report; called once per request. */
  readonly view: () => ControlView;
  /** The current time (default: the kernel's CLOCK_REALTIME). */
  readonly now?: () => NtpTimestamp;
  /** Key of the mrulist nonces (default: 32 random bytes). */
  readonly nonceSecret?: Uint8Array;
  /** Called after each request with how it was handled (for logs and tests). */
  readonly onRequest?: (outcome: ControlOutcome, client: ClientAddress) => void;
}

/** A running control server; close() stops answering (the responders keep forwarding). */
export interface ControlServer {
  close(): void;
}

/**
 * Answers the mode 6 requests `responders` forward (those that passed `restrict`, so a
 * `noquery` source never gets here) with {@link answerControl}, sending every fragment back
 * from the address the request reached. The mode 6 clients themselves are added to the view's
 * recent-client list, as ntpd's monitor counts them. Malformed requests get no reply.
 *
 * @example
 * ```ts
 * import { controlViewOf } from "./control_view_of.ts";
 * import type { Responders } from "../io/responders_types.ts";
 * import type { SystemSnapshot } from "../core/server/types.ts";
 * import type { TimeKeeping } from "./time_keeping.ts";
 * declare const responders: Responders;
 * declare let snapshot: SystemSnapshot; // the one last published
 * declare const timeKeeping: TimeKeeping;
 * const startedAt = performance.now() / 1000;
 * const control = attachControlServer(responders, {
 *   view: () =>
 *     controlViewOf(snapshot, timeKeeping.view(), {
 *       uptimeSeconds: performance.now() / 1000 - startedAt,
 *       counters: responders.counters(),
 *       minPollLog2: 6,
 *     }),
 * });
 * // ...
 * control.close();
 * ```
 */
export function attachControlServer(
  responders: Responders,
  options: ControlServerOptions,
): ControlServer {
  const readRealtime = chooseRealtimeReader();
  const now = options.now ?? (() => {
    const reading = readRealtime();
    return ntpFromUnix(reading.unixSeconds, reading.nanoseconds);
  });
  const nonceSecret = options.nonceSecret ?? crypto.getRandomValues(new Uint8Array(32));
  const controlClients = new Map<string, MruEntry>();
  // The merge is redone only when the view hands over a different client list, so the pages of
  // one `ntpq -c mrulist` walk (the daemon keeps its list while they come) see one merged list.
  let mergedFrom: readonly MruEntry[] | null = null;
  let merged: MruEntry[] = [];
  let closed = false;

  const remember = (
    data: Uint8Array,
    { client, at }: { client: ClientAddress; at: NtpTimestamp },
  ) => {
    const address = formatIp(client);
    const previous = controlClients.get(address);
    controlClients.delete(address);
    controlClients.set(address, {
      address,
      port: client.port,
      firstSeen: previous?.firstSeen ?? at,
      lastSeen: at,
      packets: (previous?.packets ?? 0) + 1,
      mode: (data[0] ?? 0) & 7,
      version: ((data[0] ?? 0) >>> 3) & 7,
      restrictFlags: [],
      droppedPackets: previous?.droppedPackets ?? 0,
    });
    if (controlClients.size > MAX_CONTROL_CLIENTS) {
      const oldest = controlClients.keys().next().value;
      if (oldest !== undefined) controlClients.delete(oldest);
    }
  };

  responders.onControl((data, client) => {
    if (closed) return;
    const at = now();
    remember(data, { client, at });
    const view = options.view();
    const answer = answerControl(data, client, {
      // A getter, so the (possibly long) client list is only merged when a READ_MRU reads it.
      view: {
        system: view.system,
        peers: view.peers,
        get clients() {
          const clients = view.clients;
          if (clients !== mergedFrom) {
            merged = mergeClients(clients, [...controlClients.values()]);
            mergedFrom = clients;
          }
          return merged;
        },
      },
      now: at,
      nonceSecret,
    });
    for (const reply of answer.replies) responders.sendControlReply(reply, client);
    options.onRequest?.(answer.outcome, client);
  });

  return {
    close() {
      closed = true;
    },
  };
}

/** The daemon's client list plus our control clients; for an address in both, the most recent entry. */
function mergeClients(fromView: readonly MruEntry[], control: readonly MruEntry[]): MruEntry[] {
  const byAddress = new Map<string, MruEntry>();
  for (const entry of [...fromView, ...control]) {
    const known = byAddress.get(entry.address);
    if (known === undefined || ntpDiffSeconds(entry.lastSeen, known.lastSeen) > 0) {
      byAddress.set(entry.address, entry);
    }
  }
  return [...byAddress.values()];
}
