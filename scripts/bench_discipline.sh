#!/usr/bin/env bash
# Discipline benchmark: how well a soft-disciplined server keeps time behind a bad path, ours vs chronyd.
#
# Usage: scripts/bench_discipline.sh            (as root; starts everything itself, kills it on exit)
# Environment:
#   DURATION      seconds both clients run in all (default 300)
#   WARMUP        the first seconds of DURATION, not measured (default 60)
#   EVERY         seconds between measurements after the warm-up (default 5)
#   POLL          poll exponent for both clients, log2 s (default 3 = 8 s; ours accepts 3..17)
#   DELAY_OUT, DELAY_BACK    relay delay client->upstream and back, ms (default 7 and 3: asymmetric).
#                 Keep both >= 3: tests/support/udp_relay.ts delivers a delay below about 2.5 ms
#                 about 1.2 ms late most of the time but on time now and then (measured with tshark:
#                 1 ms + U(0,0.5) came out as 2.2-3.2 ms in 172 of 176 replies, 1.4-1.8 ms in 3),
#                 which makes the path bimodal and the nominal ideal wrong.
#   JITTER_OUT, JITTER_BACK  relay jitter, uniform ms (default 2 and 0.5)
#   LOSS_OUT, LOSS_BACK      relay loss probability (default 0.02 and 0)
#   COUNT, INTERVAL_MS       probe samples per measurement and their spacing (default 8, 50);
#                 phase 0 (the raw path) takes RAW_COUNT samples (default 100) 100 ms apart
#   UP_PORT, RELAY_PORT, CHRONY_PORT, OUR_PORT   loopback ports (default 14123..14126; chronyd's
#                 client requests leave from CHRONY_PORT+10)
#   SERIES_OUT, OURS_LOG_OUT  if set, copy the per-measurement JSON lines / our daemon's log there
#
# Layout, all on 127.0.0.1, every daemon under `setpriv --bounding-set=-sys_time` (nothing can
# touch the host clock; chronyd only with -x):
#   upstream chronyd -x (local stratum 1) <- relay (tests/support/udp_relay.ts: delay, jitter,
#   loss, asymmetry) <- { chronyd -x client+server, our `ntp serve --clock soft` }
# chronyd -x disciplines a virtual clock (its null driver) and serves it, as our soft clock does.
# All of them read the same kernel clock, so the true offset between any two is 0: a probe sent
# DIRECTLY (no relay) to each client measures its served-time error (NTP sign: positive = the
# client serves time ahead of the kernel clock). The ideal result is the asymmetry bias
# +(DELAY_OUT - DELAY_BACK)/2, which no NTP client can see (the upstream looks that much ahead
# through the relay); the distance from it and the spread around it are the discipline's error.
# Phase 0 probes the upstream through the relay: the raw measurement noise, and (the median
# offset of its lowest-delay tenth) the path's real asymmetry/2 as a client that trusts
# low-delay samples sees it: the "ideal" the columns are relative to.
# Phase 1 lets both clients synchronise for WARMUP s. Phase 2 measures both every EVERY s until
# DURATION (a burst of COUNT requests to each, alternating; the burst median is one measurement)
# and reports, per client, the mean error, its sd over time (the wander), the rms and the largest
# distance from the ideal.
# Exit 0 when all measurements ran; ours is reported "not synchronised" if it never was.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
duration="${DURATION:-300}"
warmup="${WARMUP:-60}"
every="${EVERY:-5}"
poll="${POLL:-3}"
delay_out="${DELAY_OUT:-7}"
delay_back="${DELAY_BACK:-3}"
jitter_out="${JITTER_OUT:-2}"
jitter_back="${JITTER_BACK:-0.5}"
loss_out="${LOSS_OUT:-0.02}"
loss_back="${LOSS_BACK:-0}"
count="${COUNT:-8}"
interval_ms="${INTERVAL_MS:-50}"
raw_count="${RAW_COUNT:-100}"
rounds=$(((duration - warmup) / every))
if ((rounds < 1)); then
  echo "bench_discipline: DURATION ($duration) must exceed WARMUP ($warmup) by at least EVERY ($every)" >&2
  exit 2
fi
up_port="${UP_PORT:-14123}"
relay_port="${RELAY_PORT:-14124}"
chrony_port="${CHRONY_PORT:-14125}"
our_port="${OUR_PORT:-14126}"

for tool in chronyd chronyc setpriv deno; do
  command -v "$tool" >/dev/null || { echo "bench_discipline: $tool not found" >&2; exit 2; }
done
nocap=(setpriv --bounding-set=-sys_time --)
deno_run=(deno run --allow-net --allow-ffi --allow-read --allow-write --allow-env --allow-sys --allow-run)

work="$(mktemp -d /tmp/ntp-bench-discipline.XXXXXX)"
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ $status -ne 0 ]]; then
    echo "--- logs ($work) ---" >&2
    tail -n 20 "$work"/*.log >&2 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT INT TERM

kernel_before="$(/usr/bin/python3 "$repo/../shared/interop/adjtimex_read.py" 2>/dev/null || echo unavailable)"

# 1. Upstream reference: chronyd -x serving its unmodified clock at stratum 1.
cat >"$work/upstream.conf" <<EOT
port $up_port
bindaddress 127.0.0.1
allow 127.0.0.1
local stratum 1
cmdport 0
pidfile $work/upstream.pid
EOT
"${nocap[@]}" chronyd -x -d -u root -f "$work/upstream.conf" >"$work/upstream.log" 2>&1 &
pids+=("$!")

# 2. The relay, in its own process so its timing does not share an event loop.
cd "$repo"
"${nocap[@]}" "${deno_run[@]}" tests/support/udp_relay.ts \
  --listen "127.0.0.1:$relay_port" --target "127.0.0.1:$up_port" \
  --delay-out "$delay_out" --jitter-out "$jitter_out" --loss-out "$loss_out" \
  --delay-back "$delay_back" --jitter-back "$jitter_back" --loss-back "$loss_back" \
  --idle-exit 120 --lifetime $((duration + 600)) >"$work/relay.out" 2>"$work/relay.log" &
relay_pid=$!
pids+=("$relay_pid")
for _ in $(seq 100); do
  grep -q '^RELAY' "$work/relay.out" 2>/dev/null && break
  sleep 0.1
done
grep -q '^RELAY' "$work/relay.out" || { echo "bench_discipline: relay did not start" >&2; exit 1; }

probe=("${nocap[@]}" "${deno_run[@]}" scripts/bench_discipline_probe.ts)

sleep 1
echo "phase 0: upstream through the relay (raw measurements)" >&2
raw="$("${probe[@]}" --target "127.0.0.1:$relay_port" --count "$raw_count" --interval-ms 100)"

# 3. The two clients, side by side through the same relay.
cat >"$work/chrony-client.conf" <<EOT
server 127.0.0.1 port $relay_port iburst minpoll $poll maxpoll $poll
acquisitionport $((chrony_port + 10))
port $chrony_port
bindaddress 127.0.0.1
allow 127.0.0.1
bindcmdaddress $work/chronyc.sock
cmdport 0
pidfile $work/chrony-client.pid
driftfile $work/chrony-client.drift
EOT
"${nocap[@]}" chronyd -x -d -u root -f "$work/chrony-client.conf" >"$work/chrony-client.log" 2>&1 &
pids+=("$!")

cat >"$work/ours.toml" <<EOT
driftfile = "$work/ours.drift"
listen = ["127.0.0.1:$our_port"]

[[server]]
address = "127.0.0.1"
port = $relay_port
iburst = true
minpoll = $poll
maxpoll = $poll

[serve]
clock = "soft"
workers = 1
EOT
"${nocap[@]}" "${deno_run[@]}" main.ts serve --config "$work/ours.toml" --clock soft \
  >"$work/ours.out" 2>"$work/ours.log" &
ours_pid=$!
pids+=("$ours_pid")

echo "phase 1: both clients synchronise for $warmup s (poll 2^$poll s)" >&2
sleep "$warmup"

echo "phase 2: probing both clients directly every $every s, $rounds rounds" >&2
"${probe[@]}" --targets "127.0.0.1:$chrony_port,127.0.0.1:$our_port" --rounds "$rounds" \
  --every-ms $((every * 1000)) --count "$count" --interval-ms "$interval_ms" >"$work/series.jsonl"
if ! kill -0 "$ours_pid" 2>/dev/null; then
  echo "bench_discipline: our daemon exited during the run; see its log" >&2
  tail -n 5 "$work/ours.log" >&2 || true
fi
chrony_result="$(grep "\"target\":\"127.0.0.1:$chrony_port\"" "$work/series.jsonl" | grep summary)"
our_result="$(grep "\"target\":\"127.0.0.1:$our_port\"" "$work/series.jsonl" | grep summary)"
if [[ -n "${SERIES_OUT:-}" ]]; then cp "$work/series.jsonl" "$SERIES_OUT"; fi
if [[ -n "${OURS_LOG_OUT:-}" ]]; then cp "$work/ours.log" "$OURS_LOG_OUT"; fi
tracking="$(chronyc -h "$work/chronyc.sock" -n tracking 2>&1 | sed -n '/Last offset/,/Skew/p' || true)"

kill "$relay_pid" 2>/dev/null || true
wait "$relay_pid" 2>/dev/null || true
kernel_after="$(/usr/bin/python3 "$repo/../shared/interop/adjtimex_read.py" 2>/dev/null || echo unavailable)"

RAW="$raw" CHRONY="$chrony_result" OURS="$our_result" DELAY_OUT="$delay_out" \
  DELAY_BACK="$delay_back" JITTER_OUT="$jitter_out" JITTER_BACK="$jitter_back" \
  /usr/bin/python3 - <<'EOT'
import json, os
out, back = float(os.environ["DELAY_OUT"]), float(os.environ["DELAY_BACK"])
jout, jback = float(os.environ["JITTER_OUT"]), float(os.environ["JITTER_BACK"])
ideal = (out - back) / 2 / 1000
mean_bias = ((out + jout / 2) - (back + jback / 2)) / 2 / 1000
raw = json.loads(os.environ["RAW"])
print(f"relay: out {out}+U(0,{jout}) ms, back {back}+U(0,{jback}) ms; nominal asymmetry/2 "
      f"{ideal*1e6:+.0f} us; with the mean jitter {mean_bias*1e6:+.0f} us")
ro, rd = raw.get("offsetSeconds"), raw.get("delaySeconds")
if ro is None:
    print("raw via relay (upstream): no replies")
else:
    ideal = raw["lowDelayOffsetSeconds"]
    print(f"raw via relay (upstream)   {raw['sent'] - raw['lost']}/{raw['sent']} samples: offset mean "
          f"{ro['mean']*1e6:+.1f} us, sd {ro['sd']*1e6:.1f} us; lowest-delay tenth {ideal*1e6:+.1f} us; "
          f"delay median {rd['median']*1e6:.1f} us, min {rd['min']*1e6:.1f} us")
print(f"served-time error, one measurement = median of a burst; columns relative to the ideal {ideal*1e6:+.0f} us"
      f" (the path's lowest-delay asymmetry/2):")
print(f"{'':26s} {'n':>4s} {'mean':>9s} {'sd':>8s} {'mean-ideal':>10s} {'rms-ideal':>9s} {'max|e-i|':>9s} {'rms vs 0':>9s}  (us)")
def row(name, text):
    if not text:
        print(f"{name:26s} no measurements")
        return
    r = json.loads(text)
    m = r["medianOffsetSeconds"]
    if m is None:
        print(f"{name:26s} never synchronised ({r['unsynchronisedRounds']}/{r['rounds']} rounds unsynchronised)")
        return
    mean, sd = m["mean"], m["sd"]
    rms_ideal = (sd ** 2 + (mean - ideal) ** 2) ** 0.5
    worst = max(abs(m["min"] - ideal), abs(m["max"] - ideal))
    note = "" if r["unsynchronisedRounds"] == 0 else f"  ({r['unsynchronisedRounds']} rounds NOT SYNCHRONISED)"
    print(f"{name:26s} {r['rounds'] - r['unsynchronisedRounds']:4d} {mean*1e6:+9.1f} {sd*1e6:8.1f} "
          f"{(mean-ideal)*1e6:+10.1f} {rms_ideal*1e6:9.1f} {worst*1e6:9.1f} {m['rms']*1e6:9.1f}  lost {r['lost']}/{r['sent']}{note}")
row("chronyd -x served time", os.environ["CHRONY"])
row("ours (soft) served time", os.environ["OURS"])
EOT
echo "our daemon's events: $(grep -c 'system peer is now' "$work/ours.log" || true) system peer changes, $(grep -c 'clock stepped' "$work/ours.log" || true) steps, $(grep -c 'WRN' "$work/ours.log" || true) warnings"
echo "chronyc tracking of the chronyd client:"
echo "$tracking" | sed 's/^/  /'
echo "relay counters: $(tail -n 1 "$work/relay.out")"
echo "kernel clock before: $kernel_before"
echo "kernel clock after:  $kernel_after"
if [[ "$kernel_before" != "$kernel_after" ]]; then
  echo "bench_discipline: THE KERNEL CLOCK STATE CHANGED" >&2
  exit 4
fi
