#!/usr/bin/env bash
# GOST-512 (GOST R 34.10-2012, paramSetA) sign and verify of a 64-byte digest: ours beside
# OpenSSL's GOST engine (shared/bench/openssl_gost_speed.c), in alternating rounds of the same
# invocation (the machine is shared and noisy), then the median ratios against issue #16's goals:
# verify >= 2.5 x the engine, sign >= 1.0 x the engine (ours constant-time, the engine not).
#
#   bench/gost.sh [ROUNDS]        (default 3; SECONDS_PER_RUN: each engine measurement, default 3)
#   CLOCK=wall bench/gost.sh      rates by the wall clock; the default, CLOCK=cpu, counts per
#                                 CPU-second of each process (the engine peer built with
#                                 CLOCK_PROCESS_CPUTIME_ID in place of CLOCK_MONOTONIC): on a
#                                 shared, loaded machine that is what one core does, where wall
#                                 rates mostly measure the others' load at that moment.
#   FULL=1 bench/gost.sh          also prints our full `cargo bench --bench gost` once (1 KiB
#                                 message rates, with Streebog), before the rounds.
#
# Needs: cc, OpenSSL headers (libssl-dev) and the engine (libengine-gost-openssl).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-3}
seconds=${SECONDS_PER_RUN:-3}
peer_src=${OPENSSL_GOST_SPEED_SRC:-../shared/bench/openssl_gost_speed.c}
[ -f "$peer_src" ] || peer_src=/work/shared/bench/openssl_gost_speed.c
clock=${CLOCK:-cpu}
work=$(mktemp -d -t gost_bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
peer_bin=$work/ossl_gost_speed
if [ "$clock" = cpu ]; then
    sed 's/CLOCK_MONOTONIC/CLOCK_PROCESS_CPUTIME_ID/' "$peer_src" >"$work/peer.c"
    ours_line='GOST-512 digest-only per CPU-second'
else
    cp "$peer_src" "$work/peer.c"
    ours_line='GOST-512 digest-only'
fi
cc -O2 -o "$peer_bin" "$work/peer.c" -lcrypto

if [ "${FULL:-0}" = 1 ]; then
    cargo bench --bench gost 2>/dev/null
    echo
fi
# Build once, outside the timed rounds.
cargo bench --bench gost --no-run 2>/dev/null

ours_v=() ours_s=() peer_v=() peer_s=()
for round in $(seq 1 "$rounds"); do
    peer=$("$peer_bin" "$seconds")
    # 5,000 of each: a few CPU-seconds, so the 1/100 s ticks of the CPU clock matter little.
    ours=$(GOST_BENCH_DIGEST_ONLY=1 BENCH_ITERATIONS=${BENCH_ITERATIONS:-5000} cargo bench --bench gost 2>/dev/null)
    pv=$(sed -n 's/^openssl gost-engine GOST2012-512 verify: *\([0-9]*\) .*/\1/p' <<<"$peer")
    ps=$(sed -n 's/^openssl gost-engine GOST2012-512 sign: *\([0-9]*\) .*/\1/p' <<<"$peer")
    ov=$(sed -n "s/^$ours_line: verify \([0-9]*\)\/s, sign \([0-9]*\)\/s/\1/p" <<<"$ours")
    os=$(sed -n "s/^$ours_line: verify \([0-9]*\)\/s, sign \([0-9]*\)\/s/\2/p" <<<"$ours")
    printf 'round %d: engine verify %6s/s sign %6s/s | ours verify %6s/s sign %6s/s | ratio verify %.2f sign %.2f\n' \
        "$round" "$pv" "$ps" "$ov" "$os" "$(bc -l <<<"$ov/$pv")" "$(bc -l <<<"$os/$ps")"
    peer_v+=("$pv") peer_s+=("$ps") ours_v+=("$ov") ours_s+=("$os")
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mv=$(median "${ours_v[@]}") ms=$(median "${ours_s[@]}")
pv=$(median "${peer_v[@]}") ps=$(median "${peer_s[@]}")
rv=$(bc -l <<<"$mv/$pv") rs=$(bc -l <<<"$ms/$ps")
echo
printf 'clock: %s\n' "$clock"
printf 'median of %d rounds: engine verify %s/s sign %s/s; ours verify %s/s sign %s/s\n' "$rounds" "$pv" "$ps" "$mv" "$ms"
printf 'verify ratio %.2f (goal >= 2.5: %s)\n' "$rv" "$(bc -l <<<"$rv >= 2.5" | sed 's/1/met/;s/0/NOT met/')"
printf 'sign ratio %.2f, ours constant-time (goal >= 1.0: %s)\n' "$rs" "$(bc -l <<<"$rs >= 1.0" | sed 's/1/met/;s/0/NOT met/')"
