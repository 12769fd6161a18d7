// Tests of answerControl(): READSTAT, READVAR (default and named), errors, fragmentation, ntpstat's request, malformed input.
import assert from "node:assert/strict";
import fc from "fast-check";
import { answerControl, type ControlContext } from "../../../src/core/control/answer_control.ts";
import {
  type ControlMessage,
  decodeControlMessage,
  decodeControlRequest,
  encodeControlMessage,
} from "../../../src/core/control/control_message.ts";
import { type ControlView, ZERO_SERVER_COUNTERS } from "../../../src/core/control/control_view.ts";
import { reassembleFragments } from "../../../src/core/control/reassemble_fragments.ts";
import { payloadText } from "../../../src/core/control/variable_list.ts";
import { refidFromIPv4 } from "../../../src/core/packet/refid.ts";
import { ntpFromUnix } from "../../../src/core/time/ntp_timestamp.ts";
import { fakeControlView, syncedAssociationIds } from "../../support/fake_control_views.ts";
import { clientAt, fromHex, toHex } from "../_vectors.ts";
import { controlCaptures } from "./_captures.ts";
import { propertyRuns } from "../../support/property_runs.ts";

const nowUnixSeconds = 1_795_860_837;
const client = clientAt("127.0.0.1", 51456);
const secret = new Uint8Array(32).fill(7);

function context(view: ControlView): ControlContext {
  return { view, now: ntpFromUnix(nowUnixSeconds, 0), nonceSecret: secret };
}

const synced = context(fakeControlView("synced", { nowUnixSeconds }));
const unsynced = context(fakeControlView("unsynced", { nowUnixSeconds }));

function request(fields: Partial<ControlMessage> & { text?: string }): Uint8Array {
  return encodeControlMessage({
    leap: 3,
    version: 2,
    response: false,
    error: false,
    more: false,
    opcode: 2,
    sequence: 9,
    status: 0,
    associationId: 0,
    offset: 0,
    data: new TextEncoder().encode(fields.text ?? ""),
    ...fields,
  });
}

function decodeAll(replies: readonly Uint8Array[]): ControlMessage[] {
  return replies.map((r) => {
    const m = decodeControlMessage(r);
    assert.ok(m !== null);
    return m;
  });
}

function text(replies: readonly Uint8Array[]): string {
  const joined = reassembleFragments(decodeAll(replies));
  assert.ok(joined !== null, "incomplete response");
  return payloadText(joined.data);
}

/** The system state of the ntpsec transcript (tshark frame 6), as a view. */
function ntpsecTranscriptView(): ControlContext {
  const base = fakeControlView("synced", { nowUnixSeconds });
  return {
    view: {
      ...base,
      system: {
        ...base.system,
        leap: 0,
        stratum: 3,
        precisionLog2: -24,
        rootDelaySeconds: 0.000054,
        rootDispersionSeconds: 0.001015,
        referenceId: refidFromIPv4(new Uint8Array([10, 123, 0, 1])),
        referenceTime: { seconds: 0xeeb527e3, fraction: 0x86e36b2c },
        pollLog2: 4,
        minPollLog2: 0,
        systemPeerAssociationId: 17767,
        offsetSeconds: 0,
        frequencyPpm: 0,
        systemJitterSeconds: 0,
        clockJitterSeconds: 2 ** -24,
        clockWanderPpm: 0,
        processor: "x86_64",
        system: "Linux/6.18.44-fc-v669",
        version: "ntpd ntpsec-1.2.2",
        events: { count: 1, lastCode: 6 },
      },
    },
    now: { seconds: 0xeeb527e5, fraction: 0x0abafac4 },
    nonceSecret: secret,
  };
}

Deno.test("answerControl() writes the system variables byte for byte as ntpsec ntpd did for ntpstat", () => {
  const { replies } = answerControl(
    fromHex(controlCaptures.ntpstatRequest),
    client,
    ntpsecTranscriptView(),
  );
  assert.equal(replies.length, 1);
  const captured = fromHex(controlCaptures.ntpdReadVarResponse);
  const ours = replies[0]!;
  // Same data and padding; the status word differs on purpose: 0x0616 (clock source "NTP
  // server", as classic ntpd reports) where ntpsec says 0x0016 (unspecified).
  assert.equal(toHex(ours.subarray(12)), toHex(captured.subarray(12)));
  assert.equal(toHex(ours.subarray(0, 4)), toHex(captured.subarray(0, 4)));
  assert.equal(toHex(ours.subarray(4, 6)), "0616");
  assert.equal(toHex(ours.subarray(6, 12)), toHex(captured.subarray(6, 12)));
});

Deno.test("answerControl() answers ntpstat's request in one datagram echoing VN 2, with its fields in the first 468 bytes", () => {
  const { replies } = answerControl(fromHex(controlCaptures.ntpstatRequest), client, synced);
  assert.equal(replies.length, 1);
  const reply = replies[0]!;
  assert.equal(reply[0]! & 0x3f, 0x16); // ntpstat's check: VN 2, mode 6
  assert.equal(reply[1]! & ~0x20, 0x82); // response, no error, READVAR
  const data = payloadText(reply.subarray(12, 12 + ((reply[10]! << 8) | reply[11]!)));
  assert.ok(data.length <= 468);
  for (
    const field of [
      "stratum=2,",
      "rootdelay=2.022,",
      "rootdisp=17.311,",
      "refid=66.220.9.122,",
      "tc=10,",
    ]
  ) {
    assert.ok(data.includes(field), `${field} missing from ${data}`);
  }
  assert.ok(data.indexOf("tc=") < data.indexOf("mintc="), "ntpstat finds the first tc=");
});

Deno.test("answerControl() echoes the request's version 1..4, sequence, opcode and association id", () => {
  for (const version of [1, 2, 3, 4]) {
    const { replies } = answerControl(
      request({ version, sequence: 0xbeef, associationId: syncedAssociationIds[1] }),
      client,
      synced,
    );
    const [first] = decodeAll(replies);
    assert.ok(first !== undefined);
    assert.deepEqual(
      [first.version, first.sequence, first.opcode, first.associationId, first.response],
      [version, 0xbeef, 2, syncedAssociationIds[1], true],
    );
  }
});

Deno.test("answerControl() READSTAT lists every association with its peer status word", () => {
  const { replies } = answerControl(request({ opcode: 1 }), client, synced);
  const [reply] = decodeAll(replies);
  assert.ok(reply !== undefined);
  assert.equal(reply.status, 0x0625); // leap 0, NTP server, 2 events, clock_sync
  assert.equal(toHex(reply.data), "4567b62a" + "4568b414" + "4569b314");
});

Deno.test("answerControl() READSTAT fragments a long association list at 468 bytes", () => {
  const base = fakeControlView("synced", { nowUnixSeconds });
  const template = base.peers[0]!;
  const peers = Array.from({ length: 200 }, (_, i) => ({ ...template, associationId: i + 1 }));
  const { replies } = answerControl(request({ opcode: 1 }), client, context({ ...base, peers }));
  const fragments = decodeAll(replies);
  assert.deepEqual(fragments.map((f) => [f.offset, f.data.length, f.more]), [[0, 468, true], [
    468,
    332,
    false,
  ]]);
  assert.equal(reassembleFragments(fragments)?.data.length, 800);
});

Deno.test("answerControl() READVAR of a peer fills a first fragment of at most 468 bytes and sets M, as ntpd's two-fragment answer", () => {
  const { replies } = answerControl(
    request({ associationId: syncedAssociationIds[1] }),
    client,
    synced,
  );
  const fragments = decodeAll(replies);
  assert.equal(fragments.length, 2);
  assert.equal(fragments[0]!.more, true);
  assert.equal(fragments[1]!.more, false);
  assert.ok(fragments[0]!.data.length <= 468 && fragments[0]!.data.length > 400);
  assert.equal(fragments[1]!.offset, fragments[0]!.data.length);
  for (const fragment of fragments) assert.equal(fragment.status, 0xb414);
  const joined = text(replies);
  assert.ok(
    joined.startsWith('srcadr=216.218.254.202, srcport=123, srchost="clock.sjc.he.net",\r\n'),
    joined,
  );
  assert.ok(
    joined.includes("reach=0xff, unreach=0, delay=2.127000,\r\noffset=5.663000, jitter=6.180000,"),
    joined,
  );
  assert.ok(
    joined.includes("filtdisp= 1.00 2.00 3.00 16000.00 16000.00 16000.00 16000.00 16000.00,"),
    joined,
  );
  assert.ok(joined.endsWith("flash=0x0\r\n"));
  for (const line of joined.split("\r\n")) assert.ok(line.length < 80, line);
});

Deno.test("answerControl() READVAR with names returns them in table order, once, as ntpd does", () => {
  const { replies } = answerControl(
    request({ text: "tc, refid,stratum , stratum" }),
    client,
    synced,
  );
  assert.equal(text(replies), "stratum=2, refid=66.220.9.122, tc=10\r\n");
  const peer = answerControl(
    request({ associationId: syncedAssociationIds[0], text: "stratum,offset,jitter" }),
    client,
    synced,
  );
  assert.equal(text(peer.replies), "stratum=1, offset=6.680000, jitter=6.798000\r\n");
});

Deno.test("answerControl() answers the ss_* counters by name", () => {
  const view = fakeControlView("synced", {
    nowUnixSeconds,
    uptimeSeconds: 99.7,
    counters: {
      ...ZERO_SERVER_COUNTERS,
      receivedPackets: 120,
      servedPackets: 100,
      kodSentPackets: 3,
      rateLimitedPackets: 9,
      restrictedPackets: 4,
      badFormatPackets: 2,
      declinedPackets: 1,
      controlRequests: 6,
      currentVersionPackets: 107,
      olderVersionPackets: 5,
      version1ClientPackets: 1,
    },
  });
  const { replies } = answerControl(
    request({
      text:
        "ss_uptime,ss_received,ss_processed,ss_kodsent,ss_limited,ss_restricted,ss_badformat,ss_declined,ss_numctlreq," +
        "ss_oldver,ss_thisver,ss_thisver_r,ss_ver1,ss_ver1client,ss_ver1zero,ss_ver1symm,ss_reset_r",
    }),
    client,
    context(view),
  );
  assert.equal(
    text(replies),
    "ss_uptime=99, ss_reset_r=99, ss_numctlreq=6, ss_received=120,\r\n" +
      "ss_thisver=107, ss_thisver_r=107, ss_oldver=5, ss_ver1=1,\r\n" +
      "ss_ver1client=1, ss_ver1zero=0, ss_ver1symm=0, ss_badformat=2,\r\n" +
      "ss_declined=1, ss_restricted=4, ss_limited=9, ss_kodsent=3,\r\n" +
      "ss_processed=100\r\n",
  );
});

Deno.test("answerControl() answers an unknown variable name with error 5 and no data", () => {
  for (const associationId of [0, syncedAssociationIds[0]]) {
    const { replies, outcome } = answerControl(
      request({ associationId, text: "stratum,bogus" }),
      client,
      synced,
    );
    assert.equal(outcome, "error");
    const [reply] = decodeAll(replies);
    assert.ok(reply !== undefined);
    assert.deepEqual([reply.error, reply.status >> 8, reply.data.length, reply.associationId], [
      true,
      5,
      0,
      associationId,
    ]);
  }
});

Deno.test("answerControl() answers an unknown association with error 4, a bad opcode with 3, writes with 1", () => {
  const cases: [Partial<ControlMessage>, number][] = [
    [{ associationId: 999 }, 4],
    [{ opcode: 1, associationId: 999 }, 4],
    [{ opcode: 0, associationId: 999 }, 4],
    [{ opcode: 4 }, 4],
    [{ opcode: 3 }, 1],
    [{ opcode: 5 }, 1],
    [{ opcode: 8 }, 1],
    [{ opcode: 11 }, 1],
    [{ opcode: 6 }, 3],
    [{ opcode: 7 }, 3],
    [{ opcode: 9 }, 3],
    [{ opcode: 31 }, 3],
  ];
  for (const [fields, code] of cases) {
    const [reply] = decodeAll(answerControl(request(fields), client, synced).replies);
    assert.ok(reply !== undefined);
    assert.equal(reply.error, true, JSON.stringify(fields));
    assert.equal(reply.status >> 8, code, JSON.stringify(fields));
  }
});

Deno.test("answerControl() puts the system leap bits in LI and the unsynchronised status word c011", () => {
  const [reply] = decodeAll(answerControl(request({}), client, unsynced).replies);
  assert.ok(reply !== undefined);
  assert.equal(reply.leap, 3);
  assert.equal(reply.status, 0xc011);
  assert.match(
    payloadText(reply.data),
    /^leap=3, stratum=16, precision=-24, rootdelay=0\.000, rootdisp=0\.000,\r\nrefid=INIT, reftime=0x00000000\.00000000, tc=6, peer=0,/,
  );
});

Deno.test("answerControl() sends nothing for malformed requests", () => {
  const good = request({});
  for (
    const bytes of [
      good.subarray(0, 11),
      good.map((b, i) => (i === 1 ? b | 0x80 : b)),
      new Uint8Array(0),
    ]
  ) {
    assert.deepEqual(answerControl(bytes, client, synced).replies, []);
  }
});

Deno.test("answerControl() never throws on random bytes and answers only well-formed requests, with valid responses", () => {
  const anyBytes = fc.uint8Array({ maxLength: 600 });
  const plausible = fc.record({
    version: fc.integer({ min: 0, max: 7 }),
    flags: fc.constantFrom(0, 0x20, 0x40, 0x80),
    opcode: fc.integer({ min: 0, max: 31 }),
    associationId: fc.constantFrom(0, 17767, 17768, 17769, 1, 65535),
    offset: fc.constantFrom(0, 0, 0, 4),
    text: fc.oneof(
      fc.constant(""),
      fc.string({ maxLength: 80 }),
      fc.constantFrom("stratum", "nonce=00", "bogus,leap"),
    ),
    trailing: fc.uint8Array({ maxLength: 40 }),
  }).map((r) => {
    const bytes = request({
      opcode: r.opcode,
      associationId: r.associationId,
      offset: r.offset,
      text: r.text,
    });
    bytes[0] = (bytes[0]! & 0xc7) | (r.version << 3);
    bytes[1] = bytes[1]! | r.flags;
    return new Uint8Array([...bytes, ...r.trailing]);
  });
  fc.assert(
    fc.property(fc.oneof(anyBytes, plausible), (bytes) => {
      const answer = answerControl(bytes, client, synced);
      const wellFormed = decodeControlRequest(bytes);
      if (wellFormed === null) {
        assert.equal(answer.replies.length, 0);
        return;
      }
      for (const reply of answer.replies) {
        const message = decodeControlMessage(reply);
        assert.ok(message !== null);
        assert.ok(message.response);
        assert.ok(message.data.length <= 468);
        assert.equal(reply.length % 4, 0);
        assert.equal(message.sequence, wellFormed.sequence);
        assert.equal(message.version, wellFormed.version);
      }
      if (answer.outcome !== "dropped") {
        assert.ok(reassembleFragments(decodeAll(answer.replies)) !== null);
      }
    }),
    { numRuns: propertyRuns(3000) },
  );
});

Deno.test("answerControl() lists NTPsec's leapsmearinterval and leapsmearoffset (ms) only while smearing is configured", () => {
  const plain = fakeControlView("synced", { nowUnixSeconds });
  const smearing: ControlView = {
    ...plain,
    system: { ...plain.system, leapSmear: { intervalSeconds: 7200, offsetSeconds: -0.25 } },
  };
  const listed = (view: ControlView) =>
    decodeAll(answerControl(request({}), client, context(view)).replies)
      .map((m) => payloadText(m.data)).join("");
  assert.match(listed(smearing), /leapsmearinterval=7200,\s*leapsmearoffset=-250\.000/);
  assert.doesNotMatch(listed(plain), /leapsmear/);
  const asked = decodeAll(
    answerControl(request({ text: "leapsmearoffset" }), client, context(smearing)).replies,
  ).map((m) => payloadText(m.data)).join("");
  assert.match(asked, /^leapsmearoffset=-250\.000/);
});
