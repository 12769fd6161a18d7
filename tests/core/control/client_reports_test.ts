// Tests of the client-side renderings: the ntpq -np billboard, the ntpstat report, status words and printf rounding, against captured output.
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatC } from "../../../src/core/control/c_format.ts";
import { type ControlPeerView, PeerSelection } from "../../../src/core/control/control_view.ts";
import {
  BILLBOARD_HEADER,
  BILLBOARD_RULE,
  formatBillboard,
  formatBillboardRow,
  prettyInterval,
} from "../../../src/core/control/ntpq_billboard.ts";
import { ntpstatReport } from "../../../src/core/control/ntpstat_report.ts";
import {
  decodePeerStatus,
  decodeSystemStatus,
  peerStatusWord,
} from "../../../src/core/control/status_words.ts";
import { parseVariableList, payloadText } from "../../../src/core/control/variable_list.ts";
import { unixFromNtp } from "../../../src/core/time/ntp_timestamp.ts";
import { fakeControlView } from "../../support/fake_control_views.ts";
import { fromHex } from "../_vectors.ts";
import { controlCaptures } from "./_captures.ts";

/** The peer variables ntpsec ntpd sent for 10.123.0.1 (ntpd_netns_synced.txt, `rv &1`), as wire text. */
const ntpsecPeerText =
  "srcadr=10.123.0.1, srcport=123, dstadr=10.123.0.2, dstport=123, leap=0,\r\n" +
  "hmode=3, stratum=2, ppoll=99, hpoll=4, precision=-26, rootdelay=0.000,\r\n" +
  "rootdisp=0.000, refid=127.127.1.1, reftime=0xeeb52788.01a1c095,\r\n" +
  "rec=0xeeb527bf.86dde11b, xmt=0xeeb527bf.86dd1618, reach=0xff, unreach=0,\r\n" +
  "delay=0.048587, offset=0.012193, jitter=0.036089, dispersion=0.259997,\r\n" +
  "keyid=0, pmode=4, flash=0x0, headway=43, ntscookies=-1\r\n";

function unixOf(lfp: { seconds: number; fraction: number }): number {
  const { unixSeconds, nanoseconds } = unixFromNtp(lfp, 1_795_000_000);
  return unixSeconds + nanoseconds / 1e9;
}

Deno.test("formatBillboardRow() reproduces ntpsec ntpq -np's row for its own ntpd, column for column", () => {
  // ntpq ran at 10:13:32, 12.x s after rec (10:13:19.526).
  const now = unixOf({ seconds: 0xeeb527bf, fraction: 0x86dde11b }) + 12.7;
  assert.equal(
    formatBillboardRow({ status: 0xb61a, variables: parseVariableList(ntpsecPeerText) }, now),
    "*10.123.0.1      127.127.1.1      2 u   12   16  377   0.0486   0.0122   0.0361",
  );
});

Deno.test("formatBillboardRow() reproduces the unsynchronised transcript's row (reach 3, when 10)", () => {
  const text = ntpsecPeerText
    .replace("rec=0xeeb527bf.86dde11b", "rec=0xeeb52719.7bf48003")
    .replace("reach=0xff", "reach=0x3")
    .replace(
      "delay=0.048587, offset=0.012193, jitter=0.036089",
      "delay=0.042594, offset=0.013566, jitter=0.010289",
    );
  const now = unixOf({ seconds: 0xeeb52719, fraction: 0x7bf48003 }) + 10.6;
  assert.equal(
    formatBillboardRow({ status: 0xb61a, variables: parseVariableList(text) }, now),
    "*10.123.0.1      127.127.1.1      2 u   10   16    3   0.0426   0.0136   0.0103",
  );
});

Deno.test("formatBillboardRow() switches to three decimals when the server sends three (classic ntpd)", () => {
  const text =
    "srcadr=66.220.9.122, hmode=3, stratum=1, ppoll=9, hpoll=9, refid=CDMA, reach=0xff, " +
    "rec=0x00000000.00000000, delay=2.022, offset=6.680, jitter=6.798";
  assert.equal(
    formatBillboardRow({ status: 0x9614, variables: parseVariableList(text) }, 1_795_000_000),
    "*66.220.9.122    .CDMA.           1 u    -  512  377    2.022    6.680    6.798",
  );
});

Deno.test("formatBillboardRow() truncates long remotes and refids as ntpq does (checked against its Python code)", () => {
  const text = "srcadr=2001:db8:1234:5678::abcd, hmode=3, stratum=3, ppoll=6, hpoll=6, " +
    "refid=2001:db8:ffff:eeee::1, reach=0x1, delay=12345.678901, offset=-123.456789, jitter=0.5";
  assert.equal(
    formatBillboardRow({ status: 0x9000, variables: parseVariableList(text) }, 1_795_000_000),
    " 2001:db8:1234:5 -8:ffff:eeee::1  3 u    -   64    1 12345.68 -123.457   0.5000",
  );
});

Deno.test("formatBillboard() lists only configured or reachable associations under ntpq's 79-column header", () => {
  const rows = [
    { status: 0x0000, variables: parseVariableList("srcadr=192.0.2.1") },
    { status: 0x8000, variables: parseVariableList("srcadr=192.0.2.2, hmode=3") },
    { status: 0x1000, variables: parseVariableList("srcadr=192.0.2.3, hmode=3") },
  ];
  const lines = formatBillboard(rows, 1_795_000_000);
  assert.equal(lines[0], BILLBOARD_HEADER);
  assert.equal(lines[1], BILLBOARD_RULE);
  assert.equal(BILLBOARD_HEADER.length, 79);
  assert.deepEqual(lines.slice(2).map((l) => l.slice(0, 12)), [" 192.0.2.2  ", " 192.0.2.3  "]);
});

Deno.test("prettyInterval() follows ntpq: seconds to 2048, then m, h, d", () => {
  assert.deepEqual(
    [0, -3, 1, 2048, 2049, 18000, 18030, 345600, 400000].map(prettyInterval),
    ["-", "-", "1", "2048", "34m", "5h", "5h", "4d", "5d"],
  );
});

Deno.test("ntpstatReport() prints what ntpstat printed for ntpsec ntpd (clock source unspecified)", () => {
  const reply = fromHex(controlCaptures.ntpdReadVarResponse);
  const payload = payloadText(reply.subarray(12, 12 + 354));
  assert.deepEqual(ntpstatReport(0x0016, payload), {
    lines: [
      "synchronised to unspecified at stratum 3 ",
      "   time correct to within 1 ms",
      "   polling server every 16 s",
    ],
    exitCode: 0,
  });
});

Deno.test("ntpstatReport() prints 'NTP server (refid)' for clock source 6, as for the classic-style responder", () => {
  const payload = 'version="fake classic-style", leap=0, stratum=2, precision=-20,\r\n' +
    "rootdelay=12.345, rootdisp=7.500, refid=192.0.2.7,\r\n" +
    "reftime=0xeeb52a48.62f78b22, tc=6, peer=1234, offset=0.012";
  assert.deepEqual(ntpstatReport(0x0615, payload), {
    lines: [
      "synchronised to NTP server (192.0.2.7) at stratum 2 ",
      "   time correct to within 14 ms",
      "   polling server every 64 s",
    ],
    exitCode: 0,
  });
});

Deno.test("ntpstatReport() says unsynchronised for leap 3, and 'time server re-starting' for event 1", () => {
  const payload =
    "leap=3, stratum=16, precision=-24, rootdelay=0.000, rootdisp=0.045, refid=INIT, tc=0, mintc=0";
  assert.deepEqual(ntpstatReport(0xc016, payload), {
    lines: ["unsynchronised", "   polling server every 1 s"],
    exitCode: 1,
  });
  assert.deepEqual(ntpstatReport(0xc011, payload.replace("tc=0", "tc=6")).lines, [
    "unsynchronised",
    "  time server re-starting",
    "   polling server every 64 s",
  ]);
});

Deno.test("ntpstatReport() reads only the first 468 bytes and reports missing fields as unknown", () => {
  const late = "x=" + "y".repeat(470) + ", stratum=2, rootdelay=1, rootdisp=1, tc=6";
  assert.deepEqual(ntpstatReport(0x0015, late), {
    lines: [
      "synchronised to unspecified, stratum unknown",
      "accuracy unknown",
      "poll interval unknown",
    ],
    exitCode: 1,
  });
  assert.deepEqual(
    ntpstatReport(0x0615, "stratum=2, rootdelay=1, rootdisp=1, tc=6").lines[0],
    "synchronised to NTP server <IP unknown> at stratum 2 ",
  );
});

Deno.test("peerStatusWord() builds ntpsec's b61a for a configured, reachable system peer with one sys_peer event", () => {
  const peer: ControlPeerView = {
    ...fakeControlView("synced", { nowUnixSeconds: 1_795_000_000 }).peers[0]!,
    selection: PeerSelection.systemPeer,
    events: { count: 1, lastCode: 10 },
  };
  assert.equal(peerStatusWord(peer), 0xb61a);
  assert.equal(peerStatusWord({ ...peer, reach: 0, configured: false, selection: 0 }), 0x201a);
  assert.equal(peerStatusWord({ ...peer, events: { count: 99, lastCode: 10 } }), 0xb6fa);
  assert.deepEqual(decodePeerStatus(0xb61a), {
    configured: true,
    authEnabled: false,
    authentic: true,
    reachable: true,
    broadcast: false,
    selection: 6,
    eventCount: 1,
    eventCode: 10,
  });
  assert.deepEqual(decodeSystemStatus(0xc016), {
    leap: 3,
    clockSource: 0,
    eventCount: 1,
    eventCode: 6,
  });
});

Deno.test("formatC() rounds exact ties to even like printf, and matches toFixed elsewhere", () => {
  assert.equal(formatC(0.03125, 4), "0.0312");
  assert.equal(formatC(0.25, 1), "0.2");
  assert.equal(formatC(0.75, 1), "0.8");
  assert.equal(formatC(-0.25, 1), "-0.2");
  assert.equal(formatC(0.5, 0), "0");
  assert.equal(formatC(1.5, 0), "2");
  assert.equal(formatC(2.5, 0), "2");
  assert.equal(formatC(1.0149999999999999, 3), "1.015");
  assert.equal(formatC(Number.NaN, 3), "nan");
  fc.assert(
    fc.property(
      fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      fc.integer({ min: 0, max: 6 }),
      (value, decimals) => {
        const ours = formatC(value, decimals);
        const js = value.toFixed(decimals);
        // They differ only on exact ties, and then by one unit in the last place.
        if (ours !== js) {
          assert.ok(
            Math.abs(Number(ours) - Number(js)) <= 1.0000001 * 10 ** -decimals,
          );
        }
      },
    ),
  );
});
