#!/usr/bin/env bash
# Serving benchmark: our responders vs chronyd -x on loopback, side by side, with ntpload.
#
# Usage: scripts/bench_serve.sh            (from anywhere; needs root for nothing but taskset/setpriv)
# Environment:
#   NTPLOAD_SRC   ntpload.c (default: ../shared/tools/ntpload.c next to the repository)
#   ROUNDS        rounds of each measurement, alternating servers (default 3); medians reported
#   WORKERS       responder threads of ours (default 1: the server gets one CPU)
#   PROFILE       "limited" (default: loopback rule has `limited`, every packet goes through
#                 the rate table) or "exempt" (loopback rule without `limited`); see
#                 scripts/serve_bench_target.ts
#   IO            fast (default) or portable
#   RCVBUF        our SO_RCVBUF request in bytes (default: the responders' 4 MiB, capped by
#                 net.core.rmem_max); RCVBUF=212992 is the kernel default chronyd runs with
#   OUR_PORT, CHRONY_PORT   loopback ports (default 12124, 13123)
#   SERVER_CPU, LOAD_CPU    CPUs for the servers and the load generator (default 1 and 0)
#
# Both servers run pinned to SERVER_CPU under `setpriv --bounding-set=-sys_time` (they cannot
# touch the clock); chronyd only with -x. ntpload runs pinned to LOAD_CPU. Targets:
# our max >= 1.3x chronyd's max (<1% loss), our p99 at half chronyd's max <= chronyd's.
# Everything started here is killed on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
src="${NTPLOAD_SRC:-$repo/../shared/tools/ntpload.c}"
rounds="${ROUNDS:-3}"
workers="${WORKERS:-1}"
profile="${PROFILE:-limited}"
io="${IO:-fast}"
rcvbuf="${RCVBUF:-}"
our_port="${OUR_PORT:-12124}"
chrony_port="${CHRONY_PORT:-13123}"
server_cpu="${SERVER_CPU:-1}"
load_cpu="${LOAD_CPU:-0}"

[[ -f "$src" ]] || { echo "bench_serve: ntpload.c not found at $src (set NTPLOAD_SRC)" >&2; exit 2; }
for tool in gcc chronyd taskset setpriv deno; do
  command -v "$tool" >/dev/null || { echo "bench_serve: $tool not found" >&2; exit 2; }
done

work="$(mktemp -d /tmp/ntp-bench.XXXXXX)"
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

gcc -O2 -Wall -Wextra -o "$work/ntpload" "$src"

cat >"$work/chrony.conf" <<EOT
port $chrony_port
bindaddress 127.0.0.1
allow 127.0.0.1
local stratum 10
cmdport 0
pidfile $work/chronyd.pid
EOT
taskset -c "$server_cpu" setpriv --bounding-set=-sys_time -- \
  chronyd -x -d -u root -f "$work/chrony.conf" >"$work/chronyd.log" 2>&1 &
chrony_pid=$!
pids+=("$chrony_pid")

cd "$repo"
taskset -c "$server_cpu" setpriv --bounding-set=-sys_time -- \
  deno run --allow-ffi --allow-net --allow-read --allow-env --allow-sys \
  scripts/serve_bench_target.ts --port "$our_port" --workers "$workers" --io "$io" \
  --profile "$profile" ${rcvbuf:+--receive-buffer-bytes "$rcvbuf"} >"$work/ours.out" 2>"$work/ours.log" &
our_pid=$!
pids+=("$our_pid")

for _ in $(seq 100); do
  grep -q '^READY' "$work/ours.out" 2>/dev/null && break
  kill -0 "$our_pid" 2>/dev/null || { echo "bench_serve: our server exited" >&2; exit 1; }
  sleep 0.2
done
grep -q '^READY' "$work/ours.out" || { echo "bench_serve: our server did not start" >&2; exit 1; }
kill -0 "$chrony_pid" || { echo "bench_serve: chronyd exited" >&2; exit 1; }

field() { # field NAME LINE -> value of NAME=... in an ntpload result line
  tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"
}
median() { # median of the arguments (numeric)
  printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
load() { # load PID PORT ARGS... -> the final MAX/RESULT line
  local pid=$1 port=$2
  shift 2
  taskset -c "$load_cpu" "$work/ntpload" "$@" -p "$pid" 127.0.0.1 "$port" | tail -n 1
}

echo "ntp serving benchmark: $(date -u +%FT%TZ), $(nproc) CPUs, kernel $(uname -r), $(chronyd -v | head -n 1)"
echo "ours: io=$io workers=$workers profile=$profile rcvbuf=${rcvbuf:-default} port=$our_port; chronyd -x port=$chrony_port"
echo "servers on CPU $server_cpu, ntpload on CPU $load_cpu, $rounds rounds alternating"
echo

chrony_max=()
our_max=()
for round in $(seq "$rounds"); do
  line=$(load "$chrony_pid" "$chrony_port" --max -r 40000 -t 2)
  echo "round $round chronyd: $line"
  chrony_max+=("$(field rate "$line")")
  sleep 1
  line=$(load "$our_pid" "$our_port" --max -r 40000 -t 2)
  echo "round $round ours:    $line"
  our_max+=("$(field rate "$line")")
  sleep 1
done
chrony_max_median=$(median "${chrony_max[@]}")
our_max_median=$(median "${our_max[@]}")
half=$(awk -v r="$chrony_max_median" 'BEGIN { printf "%d", r / 2 }')
echo

chrony_p99=()
our_p99=()
chrony_loss=()
our_loss=()
chrony_cpu=()
our_cpu=()
for round in $(seq "$rounds"); do
  line=$(load "$chrony_pid" "$chrony_port" -r "$half" -d 5)
  echo "round $round chronyd @ $half/s: $line"
  chrony_p99+=("$(field p99_us "$line")")
  chrony_loss+=("$(field loss_pct "$line")")
  chrony_cpu+=("$(field srv_cpu_pct "$line")")
  sleep 1
  line=$(load "$our_pid" "$our_port" -r "$half" -d 5)
  echo "round $round ours    @ $half/s: $line"
  our_p99+=("$(field p99_us "$line")")
  our_loss+=("$(field loss_pct "$line")")
  our_cpu+=("$(field srv_cpu_pct "$line")")
  sleep 1
done

kill "$our_pid"
wait "$our_pid" 2>/dev/null || true
echo
echo "our counters: $(tail -n 1 "$work/ours.log")"
echo
printf 'SUMMARY max rate (<1%% loss), median of %s: chronyd %s/s, ours %s/s, ratio %s (target >= 1.3)\n' \
  "$rounds" "$chrony_max_median" "$our_max_median" \
  "$(awk -v a="$our_max_median" -v b="$chrony_max_median" 'BEGIN { printf "%.2f", a / b }')"
printf 'SUMMARY at %s/s, median p99: chronyd %s us (loss %s%%), ours %s us (loss %s%%), ratio %s (target <= 1)\n' \
  "$half" "$(median "${chrony_p99[@]}")" "$(median "${chrony_loss[@]}")" \
  "$(median "${our_p99[@]}")" "$(median "${our_loss[@]}")" \
  "$(awk -v a="$(median "${our_p99[@]}")" -v b="$(median "${chrony_p99[@]}")" 'BEGIN { printf "%.2f", a / b }')"
printf 'SUMMARY at %s/s, median server CPU: chronyd %s%%, ours %s%% (all threads)\n' \
  "$half" "$(median "${chrony_cpu[@]}")" "$(median "${our_cpu[@]}")"
