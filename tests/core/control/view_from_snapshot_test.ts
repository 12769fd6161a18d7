// Tests of the helpers the daemon uses to build a ControlView: from the published snapshot and the responders' counters.
import assert from "node:assert/strict";
import { answerControl } from "../../../src/core/control/answer_control.ts";
import {
  decodeControlMessage,
  encodeControlMessage,
} from "../../../src/core/control/control_message.ts";
import { serverCountersFromRecord } from "../../../src/core/control/control_view.ts";
import { ntpstatReport } from "../../../src/core/control/ntpstat_report.ts";
import { payloadText } from "../../../src/core/control/variable_list.ts";
import { controlViewFromSnapshot } from "../../../src/core/control/view_from_snapshot.ts";
import { systemSnapshot } from "../../../src/core/discipline/system_state.ts";
import { ntpFromUnix } from "../../../src/core/time/ntp_timestamp.ts";
import { clientAt } from "../_vectors.ts";

const now = ntpFromUnix(1_795_860_837, 0);
const options = {
  pollLog2: 6,
  minPollLog2: 0,
  uptimeSeconds: 12,
  counters: serverCountersFromRecord({}),
  version: "ntp 0.1.0",
  processor: "x86_64",
  system: "Linux/6.1.0",
};

function ntpstatFor(view: ReturnType<typeof controlViewFromSnapshot>) {
  const request = encodeControlMessage({
    leap: 0,
    version: 2,
    response: false,
    error: false,
    more: false,
    opcode: 2,
    sequence: 1,
    status: 0,
    associationId: 0,
    offset: 0,
    data: new Uint8Array(0),
  });
  const { replies } = answerControl(request, clientAt("127.0.0.1"), {
    view,
    now,
    nonceSecret: new Uint8Array(16),
  });
  const reply = decodeControlMessage(replies[0]!)!;
  return ntpstatReport(reply.status, payloadText(reply.data));
}

Deno.test("controlViewFromSnapshot() of the orphan snapshot reads as synchronised at the orphan stratum", () => {
  const snapshot = systemSnapshot({ uptimeSeconds: 5, now, precisionLog2: -24 }, {
    stratum: 10,
    waitSeconds: 1,
  });
  const view = controlViewFromSnapshot(snapshot, options);
  assert.deepEqual(view.peers, []);
  assert.equal(view.system.systemPeerAssociationId, 0);
  assert.deepEqual(ntpstatFor(view), {
    lines: [
      "synchronised to unspecified at stratum 10 ",
      "   time correct to within 0 ms",
      "   polling server every 64 s",
    ],
    exitCode: 0,
  });
});

Deno.test("controlViewFromSnapshot() of the unsynchronised snapshot reads as unsynchronised", () => {
  const snapshot = systemSnapshot({ uptimeSeconds: 0, now, precisionLog2: -24 }, null);
  assert.deepEqual(ntpstatFor(controlViewFromSnapshot(snapshot, options)), {
    lines: ["unsynchronised", "   polling server every 64 s"],
    exitCode: 1,
  });
});

Deno.test("serverCountersFromRecord() maps the responders' counter names onto the ss_* groups", () => {
  assert.deepEqual(
    serverCountersFromRecord({
      received: 100,
      served: 80,
      kodSent: 2,
      control: 5,
      dropTooShort: 1,
      dropBadLength: 1,
      dropBadVersion: 1,
      dropBadMode: 1,
      dropMode7: 1,
      dropRestricted: 1,
      dropRateLimited: 3,
      dropMalformedExtension: 1,
      dropControlDenied: 2,
      dropBadPort: 1,
      currentVersion: 70,
      olderVersion: 13,
      version1: 4,
      ioControlForwarded: 5,
      ntsServed: 9,
      ntsNakSent: 2,
      dropNtsMalformed: 1,
      dropNtsBadAuthenticator: 3,
      ntsCookiesIssued: 12,
      ntsKeConnections: 10,
      ntsKeKeysIssued: 6,
      ntsKeCookiesIssued: 48,
      ntsKeOpen: 1,
      clientTableEntries: 300,
      clientTableCapacity: 2048,
      clientTableBytes: 190_000,
      clientsExisting: 70,
      clientsNew: 300,
      clientsRecycled: 0,
      clientTableOldestAgeSeconds: 12.5,
    }),
    {
      receivedPackets: 100,
      servedPackets: 80,
      kodSentPackets: 2 + 2,
      rateLimitedPackets: 3,
      restrictedPackets: 3,
      badFormatPackets: 5 + 1,
      declinedPackets: 2,
      controlRequests: 5,
      currentVersionPackets: 70,
      olderVersionPackets: 13,
      version1ClientPackets: 4,
      badAuthPackets: 3,
      ntsServedPackets: 9,
      ntsNakPackets: 2,
      ntsBadPackets: 2 + 1 + 3,
      ntsCookiesMade: 12 + 48,
      ntsKeGood: 6,
      ntsKeBad: 10 - 6 - 1,
      clientTableEntries: 300,
      clientTableCapacity: 2048,
      clientTableBytes: 190_000,
      clientsExisting: 70,
      clientsNew: 300,
      clientsRecycled: 0,
      clientTableOldestAgeSeconds: 12.5,
    },
  );
});
