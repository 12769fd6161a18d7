// Micro-benchmarks of the per-batch and per-datagram I/O work: clock reads, snapshot checks, cmsg parsing.
import { readMonotonicSeconds, readRealtime } from "../../src/io/clock_realtime.ts";
import {
  createSnapshotBuffer,
  createSnapshotReader,
  refreshSnapshot,
  writeSnapshot,
} from "../../src/io/snapshot_buffer.ts";
import {
  createMmsgBatch,
  createReceiveMeta,
  parseReceiveControl,
} from "../../src/io/mmsg_batch.ts";
import { Const, Layout, writeU64 } from "../../src/io/libc.ts";
import { unsynchronisedSnapshot } from "../../src/io/responder_common.ts";

Deno.bench("readRealtime() (clock_gettime via FFI)", { group: "clock", baseline: true }, () => {
  readRealtime();
});

Deno.bench("Date.now() (1 ms resolution, for comparison)", { group: "clock" }, () => {
  Date.now();
});

Deno.bench("readMonotonicSeconds()", { group: "clock" }, () => {
  readMonotonicSeconds();
});

const snapshotBuffer = createSnapshotBuffer();
writeSnapshot(snapshotBuffer, unsynchronisedSnapshot(-20));
const reader = createSnapshotReader(snapshotBuffer, unsynchronisedSnapshot(-20));
refreshSnapshot(reader);

Deno.bench("refreshSnapshot() with nothing new (once per batch)", () => {
  refreshSnapshot(reader);
});

Deno.bench("writeSnapshot() + refreshSnapshot() (a publish)", () => {
  writeSnapshot(snapshotBuffer, unsynchronisedSnapshot(-21));
  refreshSnapshot(reader);
});

const batch = createMmsgBatch(1);
const control = batch.receiveControl[0]!;
writeU64(batch.view, control, Layout.cmsgHeaderBytes + 16);
batch.view.setInt32(control + 8, Const.SOL_SOCKET, true);
batch.view.setInt32(control + 12, Const.SCM_TIMESTAMPNS, true);
batch.view.setUint32(control + 16, 1_795_860_000, true);
writeU64(batch.view, batch.receiveHeader[0]! + Layout.msgControlLen, 32);
const meta = createReceiveMeta();

Deno.bench("parseReceiveControl() of one SCM_TIMESTAMPNS (once per datagram)", () => {
  parseReceiveControl(batch, 0, meta);
});
