#!/usr/bin/env bash
# bench/load.sh: HTTP load benchmark of `qoltanba serve` on loopback (issue #7).
#
# What it does, per storage backend (SQLite always; PostgreSQL when QOLTANBA_BENCH_POSTGRES is
# set to a URL base such as postgres://qoltanba:qoltanba@127.0.0.1:5432):
#
#   1. starts the release binary on 127.0.0.1 with a fresh data directory (and, for
#      PostgreSQL, a fresh database that is dropped again at the end);
#   2. prepares the inputs: an API key (scopes sign + pki:issue), a P-256 and an RSA-2048
#      certificate issued over HTTP, a CMS-signed request for each (`qoltanba sign`, content
#      attached) turned into a /v1/verify body, the same for an RSA-2048 certificate of an
#      external PKI (another qoltanba PKI with other CA names, whose chain and CRLs the server
#      is given as files), and a /v1/documents body; each input is checked once with curl
#      (verify must say "valid", documents must answer 201);
#   3. GET /healthz at saturation as a baseline (the HTTP stack's ceiling on this machine);
#      /v1/verify: a saturation run with wrk (maximum throughput), then a fixed-rate run at
#      BENCH_RATE_PERCENT (70) % of that maximum with oha, which has rate control (wrk has
#      none and Debian ships no wrk2) and corrects for coordinated omission
#      (--latency-correction), so its p99 is the latency a caller at that rate really sees;
#   4. stops that server with SIGTERM and waits for it;
#   5. /v1/documents: saturation runs with wrk and BENCH_DOC_CONNECTIONS (8) connections, at
#      level B: the server runs with QOLTANBA_INLINE_EVIDENCE=false, so each document is a
#      signature plus its share of a group-committed transaction that takes its registry
#      number; the evidence job extends documents to LTA afterwards (issue #16). Each run has a
#      server of its own on a fresh data directory (PostgreSQL: a fresh database), with the
#      transparency log on (target/release/qoltanba) or off (target/release/qoltanba-unlogged,
#      built with the cargo feature bench-unlogged: the store appends nothing to the log),
#      BENCH_LOG_ROUNDS (2) rounds in the order off, on, on, off, …; it prints documents/s with
#      the log on / off, round by round and over all rounds (issue #17, goal >= 0.9).
#
# At the end it prints one summary table: per backend and scenario, 2xx responses per second,
# p50, p99 and errors. Errors are responses with status >= 400 (wrk's "Non-2xx or 3xx
# responses", oha's status-code distribution) plus socket errors and timeouts; they are NOT
# counted in req/s, so a run that is answered 401/429/503 cannot pass for throughput.
#
# Usage:
#   bench/load.sh                                   # SQLite only, 15 s per run
#   BENCH_DURATION=5s bench/load.sh                 # a quick run
#   QOLTANBA_BENCH_POSTGRES=postgres://qoltanba:qoltanba@127.0.0.1:5432 bench/load.sh
#
# Knobs (environment):
#   BENCH_DURATION            length of each load run (wrk/oha syntax: 15s, 1m)     [15s]
#   BENCH_THREADS             wrk threads                                          [2]
#   BENCH_VERIFY_CONNECTIONS  connections for /v1/verify (saturation and fixed rate) [32]
#   BENCH_DOC_CONNECTIONS     connections for /v1/documents                        [8]
#   BENCH_RATE_PERCENT        fixed-rate run at this % of the measured maximum     [70]
#   BENCH_PORT                first port to listen on (PostgreSQL run uses +1)     [18480]
#   BENCH_MEMORY_DURATION     length of the RSS run at the fixed rate; 0 skips it  [10m]
#   BENCH_LOG_ROUNDS          documents runs with the log off and on, each             [2]
#   BENCH_SKIP_BUILD=1        use the existing target/release/qoltanba and qoltanba-unlogged
#   BENCH_ONLY                all: every scenario; documents: the /healthz baseline and the
#                             /v1/documents runs only (no external PKI, verify or RSS run) [all]
#   CARGO_TARGET_DIR          honoured, as cargo does
#
# Needs: cargo, curl, jq, base64, wrk, oha (and psql for PostgreSQL). Run as root, it installs
# wrk and jq with apt-get and oha with `cargo install oha --locked` when they are missing.
#
# The load generator runs on the same machine as the server: on a 2-core machine wrk/oha take
# a good share of the CPU, so the figures are a floor for the service, not its ceiling. Only
# loopback addresses are used, and every run is bounded by BENCH_DURATION.

set -euo pipefail
shopt -s inherit_errexit  # `set -e` also inside $(...)

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_setup bench

DURATION=${BENCH_DURATION:-15s}
THREADS=${BENCH_THREADS:-2}
VERIFY_CONNECTIONS=${BENCH_VERIFY_CONNECTIONS:-32}
DOC_CONNECTIONS=${BENCH_DOC_CONNECTIONS:-8}
RATE_PERCENT=${BENCH_RATE_PERCENT:-70}
BASE_PORT=${BENCH_PORT:-18480}
ONLY=${BENCH_ONLY:-all}
[[ $ONLY == all || $ONLY == documents ]] || die "BENCH_ONLY is all or documents, not '$ONLY'"
# The declared hierarchy the server creates its test PKI from (QOLTANBA_PKI_DIR): empty means the
# built-in one, whose official signs with RSA-2048; pki/gost makes every key GOST 34.10-2015
# (512), as NCA RK's current hierarchy. Relative paths are taken from the repository.
PKI_DIR=${BENCH_PKI_DIR:-}
if [[ -n $PKI_DIR && $PKI_DIR != /* ]]; then PKI_DIR=$REPO/$PKI_DIR; fi
if [[ -n $PKI_DIR && ! -f $PKI_DIR/hierarchy.toml ]]; then
    die "BENCH_PKI_DIR: no hierarchy.toml in $PKI_DIR"
fi
PKI_ENV=()
if [[ -n $PKI_DIR ]]; then PKI_ENV=(QOLTANBA_PKI_DIR="$PKI_DIR"); fi
OFFICIAL_KEY=$(awk '/^\[official\]/ {in_official = 1; next} /^\[/ {in_official = 0}
    in_official && $1 == "key" {gsub(/"/, "", $3); print $3; exit}' \
    "${PKI_DIR:-$REPO/pki}/hierarchy.toml")

# The goals (issue #16): own-PKI verification >= 0.95 x external-PKI verification; both
# >= 0.30 x the /healthz rate of the same run; p99 < 5 ms at 70 % of saturation; RSS within
# 10 % over a long verification run (BENCH_MEMORY_DURATION).
GOAL_OWN_VS_EXTERNAL=0.95
GOAL_VS_HEALTHZ=0.30
GOAL_P99_MS=5
GOAL_RSS_PERCENT=10
MEMORY_DURATION=${BENCH_MEMORY_DURATION:-10m}
# Issue #16: documents at level B >= 1,000/s with 8 connections, p99 < 50 ms.
GOAL_DOC_RPS=1000
GOAL_DOC_P99_MS=50
# Issue #17: documents/s with the transparency log on >= 0.9 x with it off, in the same run.
GOAL_LOG_ON_OFF=0.9
LOG_ROUNDS=${BENCH_LOG_ROUNDS:-2}
[[ $LOG_ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_LOG_ROUNDS is a positive number, not '$LOG_ROUNDS'"

# ---------------------------------------------------------------------------------------------
# Tools.
need curl curl
need jq jq
need wrk wrk
# oha: a Rust load generator with rate control (-q) from crates.io. Debian has no wrk2.
if ! command -v oha >/dev/null 2>&1; then
    export PATH="$HOME/.cargo/bin:$PATH"
    if ! command -v oha >/dev/null 2>&1; then
        log "installing oha (cargo install oha --locked; a few minutes on 2 cores)"
        cargo install oha --locked >"$WORK/oha-install.log" 2>&1 \
            || { tail -20 "$WORK/oha-install.log" >&2; die "cargo install oha failed"; }
    fi
fi
if [[ -n $PG_BASE ]]; then
    need psql postgresql-client
fi

# ---------------------------------------------------------------------------------------------
# Machine facts and load before the run (other work may share the machine).
CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
log "machine: $(nproc) cores, ${CPU_MODEL:-unknown CPU}; $(uptime | sed 's/^ *//')"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------------
# 1. Build: the service without the log first (cargo feature bench-unlogged), copied aside, then
#    the service as shipped, so that target/release/qoltanba is always the logged one. Both
#    feature sets share the target directory (cargo keeps the dependencies of both).
BIN_UNLOGGED=$TARGET_DIR/release/qoltanba-unlogged
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    log "cargo build --release --features bench-unlogged (in $REPO)"
    (cd "$REPO" && cargo build --release --quiet --features bench-unlogged --bin qoltanba)
    cp "$BIN" "$BIN_UNLOGGED"
fi
[[ -x $BIN_UNLOGGED ]] || die "no binary at $BIN_UNLOGGED (build without BENCH_SKIP_BUILD once)"
build_release

# ---------------------------------------------------------------------------------------------
# Helpers.

SUMMARY=$WORK/summary.tsv
printf 'backend\tscenario\ttool\t2xx req/s\tp50 ms\tp99 ms\terrors\n' >"$SUMMARY"

# wrk_lua and run_wrk (saturation runs with wrk, rows in $SUMMARY): bench/lib.sh.

# run_oha BACKEND SCENARIO URL BODY RATE: a fixed-rate run; appends a summary row and prints
# "p99-ms" on stdout.
run_oha() {
    local backend=$1 scenario=$2 url=$3 body=$4 rate=$5
    local out=$WORK/$backend-$scenario.oha.json
    log "$backend $scenario: oha -q $rate -c$VERIFY_CONNECTIONS -z $DURATION -w --latency-correction"
    # -w: requests still in flight at the deadline are waited for, not reported as
    # "aborted due to deadline" errors.
    oha --no-tui --output-format json -z "$DURATION" -w -c "$VERIFY_CONNECTIONS" -q "$rate" \
        --latency-correction -m POST -H 'content-type: application/json' -D "$body" \
        "$url" >"$out"
    # oha's JSON: summary (successRate, total seconds, requestsPerSec), latencyPercentiles in
    # seconds, statusCodeDistribution {"200": n, ...}, errorDistribution {"message": n}.
    local row
    row=$(jq -r '
        (.statusCodeDistribution // {}) as $codes
        | ([$codes | to_entries[] | select(.key | test("^2")) | .value] | add // 0) as $ok
        | ([$codes | to_entries[] | select(.key | test("^2") | not) | .value] | add // 0) as $bad
        | ([(.errorDistribution // {}) | to_entries[] | .value] | add // 0) as $err
        | [ ($ok / .summary.total | floor),
            (.latencyPercentiles.p50 * 1000),
            (.latencyPercentiles.p99 * 1000),
            ($bad + $err) ] | @tsv' "$out")
    local ok_rps p50 p99 errors
    IFS=$'\t' read -r ok_rps p50 p99 errors <<<"$row"
    p50=$(printf '%.2f' "$p50")
    p99=$(printf '%.2f' "$p99")
    log "    2xx/s $ok_rps (target $rate), p50 ${p50} ms, p99 ${p99} ms, errors $errors"
    jq -c '{summary, latencyPercentiles, statusCodeDistribution, errorDistribution}' "$out" \
        | sed 's/^/    /' >&2
    printf '%s\t%s\toha -q%s -c%s\t%s\t%s\t%s\t%s\n' "$backend" "$scenario" "$rate" \
        "$VERIFY_CONNECTIONS" "$ok_rps" "$p50" "$p99" "$errors" >>"$SUMMARY"
    echo "$p99"
}

GOAL_LINES=()

# ratio and judge_ratio: bench/lib.sh.

# memory_run BACKEND BASE DIR PID RATE: oha at RATE req/s on the own-PKI RSA request for
# MEMORY_DURATION, sampling the server's RSS every 10 s; RSS at the end must be within
# GOAL_RSS_PERCENT of RSS after the first minute (or tenth of the run, if shorter).
memory_run() {
    local backend=$1 base=$2 dir=$3 pid=$4 rate=$5
    ((rate > 0)) || return 0
    local seconds
    seconds=$(awk -v d="$MEMORY_DURATION" 'BEGIN {
        n = d + 0; u = substr(d, length(d)); if (u == "m") n *= 60; else if (u == "h") n *= 3600; print n }')
    local warm=$((seconds / 10 < 60 ? seconds / 10 : 60))
    log "$backend memory: oha -q $rate for $MEMORY_DURATION, RSS every 10 s (warm after ${warm} s)"
    oha --no-tui --output-format json -z "$MEMORY_DURATION" -w -c "$VERIFY_CONNECTIONS" \
        -q "$rate" -m POST -H 'content-type: application/json' \
        -D "$dir/verify-rsa2048.json" "$base/v1/verify" >"$dir/memory.oha.json" &
    local oha_pid=$! start=$SECONDS rss_warm=0 rss_max=0 rss
    while kill -0 "$oha_pid" 2>/dev/null; do
        sleep 10
        rss=$(rss_kib "$pid")
        echo "$((SECONDS - start)) $rss" >>"$dir/memory.rss"
        if ((rss_warm == 0 && SECONDS - start >= warm)); then rss_warm=$rss; fi
        if ((rss > rss_max)); then rss_max=$rss; fi
    done
    wait "$oha_pid" || true
    rss=$(tail -1 "$dir/memory.rss" | cut -d' ' -f2)
    local ok errors growth
    ok=$(jq '[(.statusCodeDistribution // {}) | to_entries[] | select(.key | test("^2")) | .value] | add // 0' "$dir/memory.oha.json")
    errors=$(jq '([(.statusCodeDistribution // {}) | to_entries[] | select(.key | test("^2") | not) | .value] | add // 0) + ([(.errorDistribution // {}) | to_entries[] | .value] | add // 0)' "$dir/memory.oha.json")
    growth=$(awk -v a="$rss" -v w="$rss_warm" 'BEGIN { if (w > 0) printf "%.1f", (a - w) * 100 / w; else print "n/a" }')
    GOAL_LINES+=("$backend memory over $MEMORY_DURATION at $rate req/s ($ok ok, $errors errors): RSS warm $((rss_warm / 1024)) MiB, end $((rss / 1024)) MiB, max $((rss_max / 1024)) MiB, growth $growth % (goal within $GOAL_RSS_PERCENT %: $(awk -v g="$growth" -v l="$GOAL_RSS_PERCENT" 'BEGIN { print (g != "n/a" && g <= l && g >= -l) ? "met" : "NOT met" }'))")
}

# ---------------------------------------------------------------------------------------------
# documents_run BACKEND VARIANT ROUND PORT: /v1/documents at saturation on a server of its own,
# fresh (new data directory; on PostgreSQL a new database), with the transparency log on
# (VARIANT "on": target/release/qoltanba) or off ("off": qoltanba-unlogged, built with the cargo
# feature bench-unlogged, whose store appends nothing to the log). Each run pays the same start:
# a new PKI, an empty registry, an empty log. Appends a summary row; sets DOC_RPS to the 2xx/s.
# (Not run in $(...): the server and database it makes must reach the trap.)
documents_run() {
    local name=$1 variant=$2 round=$3 port=$4
    local dir=$WORK/$name-documents-$variant-$round base=http://127.0.0.1:$port db_url
    # Dynamic scope: start_server and qcli below run this binary.
    local BIN=$BIN
    if [[ $variant == off ]]; then BIN=$BIN_UNLOGGED; fi
    if [[ $name == postgres ]]; then
        pg_create_database "docs_${variant}_$round"
        db_url=$PG_BASE/$PG_DB
    else
        db_url="sqlite://$dir/data/qoltanba.db?mode=rwc"
    fi
    # Documents are measured at level B: no inline extension to LTA (issue #16).
    server_env "$dir" "$db_url" "$port" "bench-ca-passphrase-$name" "${PKI_ENV[@]}" \
        QOLTANBA_INLINE_EVIDENCE=false
    log "$name documents, log $variant, round $round: starting $(basename "$BIN") on 127.0.0.1:$port"
    start_server "$dir"
    local pid=$STARTED_PID token status
    token=$(qcli keys create --name bench --scope sign --scope pki:issue 2>/dev/null)
    [[ $token == qlt_* ]] || die "$name: keys create printed no token"
    document_body "$dir/document.json"
    status=$(curl -s -o "$dir/document-check.json" -w '%{http_code}' -X POST "$base/v1/documents" \
        -H "authorization: Bearer $token" -H 'content-type: application/json' \
        --data-binary @"$dir/document.json")
    [[ $status == 201 ]] || { cat "$dir/document-check.json" >&2; die "$name: /v1/documents answered $status"; }
    log "$name: /v1/documents answered 201 ($(jq -r .number "$dir/document-check.json"))"
    wrk_lua "$dir/document.lua" "$dir/document.json" "$token"

    # Saturation at level B with DOC_CONNECTIONS (each one writes to the database; the service
    # commits the documents waiting at once in one transaction).
    local scenario="documents max, log $variant ($round)" rps p99 size issued
    rps=$(run_wrk "$name" "$scenario" "$base/v1/documents" "$dir/document.lua" "$DOC_CONNECTIONS")
    p99=$(tail -1 "$SUMMARY" | cut -f6)

    # The variant is what it says: with the log, a checkpoint (signed at most a second after the
    # log grows) soon covers every document issued (the check above, the 2xx of the load) and
    # the PKI's certificates; without it, checkpoints are still signed and stay at size 0.
    issued=$(awk '/^BENCH / { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        print v["requests"] - v["status_errors"] + 1 }' "$WORK/$name-$scenario.wrk")
    for _ in $(seq 1 30); do
        size=$(curl -s --max-time 2 "$base/log/checkpoint" | sed -n 2p)
        [[ $variant == off || ${size:-0} -ge $issued ]] && break
        sleep 0.2
    done
    if [[ $variant == off ]]; then
        [[ $size == 0 ]] || die "$name: the unlogged server's checkpoint has size '$size', not 0"
    else
        [[ ${size:-0} -ge $issued ]] || die "$name: the checkpoint covers '${size}' entries, fewer than the $issued documents issued"
    fi
    log "$name documents, log $variant: the signed checkpoint's size is $size"
    log "$name documents, log $variant, round $round: stopping the server"
    stop_server "$pid"
    if grep -qiE 'panic|ERROR' "$dir/server.log"; then
        log "$name: the server log has errors:"
        grep -iE 'panic|ERROR' "$dir/server.log" | sort | uniq -c | head -20 >&2
    fi
    if [[ $variant == on ]]; then
        GOAL_LINES+=("$name documents, log on ($round): $rps/s (goal >= $GOAL_DOC_RPS/s: $( ((rps >= GOAL_DOC_RPS)) && echo met || echo "NOT met")), p99 $p99 ms (goal < $GOAL_DOC_P99_MS ms: $(awk -v p="$p99" -v g="$GOAL_DOC_P99_MS" 'BEGIN {print (p < g) ? "met" : "NOT met"}')), $DOC_CONNECTIONS connections, level B, official's key ${OFFICIAL_KEY:-unknown}")
    fi
    DOC_RPS=$rps
}

# documents_on_off BACKEND PORT: LOG_ROUNDS rounds of the log off and on, in the order
# off, on, on, off, off, on, … (each pair reversed from the last, so that a machine getting
# busier or quieter during the run weighs on both alike); then the ratio on/off of the totals.
documents_on_off() {
    local name=$1 port=$2 round variant on_total=0 off_total=0 pairs=()
    for round in $(seq 1 "$LOG_ROUNDS"); do
        local order=(off on)
        if ((round % 2 == 0)); then order=(on off); fi
        local -A got=()
        for variant in "${order[@]}"; do
            documents_run "$name" "$variant" "$round" "$port"
            got[$variant]=$DOC_RPS
        done
        on_total=$((on_total + got[on]))
        off_total=$((off_total + got[off]))
        pairs+=("${got[on]}/${got[off]} = $(ratio "${got[on]}" "${got[off]}")")
    done
    local joined
    joined=$(printf '%s; ' "${pairs[@]}")
    GOAL_LINES+=("$name documents/s with the log on / off, same run: ${joined%; } (round by round); all rounds $on_total/$off_total = $(ratio "$on_total" "$off_total") (goal >= $GOAL_LOG_ON_OFF: $(judge_ratio "$on_total" "$off_total" "$GOAL_LOG_ON_OFF"))")
}

# ---------------------------------------------------------------------------------------------
# run_backend NAME DATABASE_URL PORT: one full benchmark against one storage backend.
run_backend() {
    local name=$1 db_url=$2 port=$3
    local dir=$WORK/$name
    mkdir -p "$dir/data"
    local base=http://127.0.0.1:$port

    # The external PKI's request, chain and CRLs: made before the server starts, which is
    # configured to trust them (files, as NCA's would be). Not needed for documents only.
    EXTERNAL_ENV=()
    if [[ $ONLY == all ]]; then
        external_pki "$dir"
        log "$name: external PKI made (chain, CRLs, signed request)"
    fi
    # Documents are measured at level B: no inline extension to LTA (issue #16).
    server_env "$dir" "$db_url" "$port" "bench-ca-passphrase-$name" "${EXTERNAL_ENV[@]}" \
        "${PKI_ENV[@]}" QOLTANBA_INLINE_EVIDENCE=false

    # 2. Start the server.
    log "$name: starting qoltanba serve on 127.0.0.1:$port"
    start_server "$dir"
    local pid=$STARTED_PID
    log "$name: /healthz is 200"

    # 3. Inputs. The API key: the token is printed once on stdout.
    local token
    token=$(qcli keys create --name bench --scope sign --scope pki:issue 2>/dev/null)
    [[ $token == qlt_* ]] || die "$name: keys create printed no token"

    local verdict
    if [[ $ONLY == all ]]; then
        # A signed request per key type: issue a certificate, sign the applicant's JSON with it
        # (CAdES-BES, content attached), wrap the CMS as the /v1/verify body, check it once.
        local key
        for key in p256 rsa2048; do
            signed_request "$dir" "$base" "$token" "$key"
            log "$name: $key signed request: verdict valid ($(stat -c %s "$dir/verify-$key.json") bytes)"
            wrk_lua "$dir/verify-$key.lua" "$dir/verify-$key.json"
        done

        # The external PKI's request (external_pki): its chain and CRLs are files the server was
        # given; our database plays no part in it.
        verdict=$(curl -s -X POST "$base/v1/verify" -H 'content-type: application/json' \
            --data-binary @"$dir/verify-external.json" | jq -r .verdict)
        [[ $verdict == valid ]] || die "$name: the external PKI's request verifies as '$verdict'"
        log "$name: external rsa2048 signed request: verdict valid"
        wrk_lua "$dir/verify-external.lua" "$dir/verify-external.json"
    fi


    # 4. Load. First a baseline: GET /healthz does no work, so its rate is the ceiling of the
    #    HTTP stack plus wrk on this machine; no endpoint can beat it here.
    wrk_lua "$dir/healthz.lua"
    local healthz
    healthz=$(run_wrk "$name" "healthz max (baseline)" "$base/healthz" "$dir/healthz.lua" \
        "$VERIFY_CONNECTIONS")

    if [[ $ONLY == all ]]; then
        # /v1/verify: saturation (wrk), then fixed rate at RATE_PERCENT % of it (oha). `external`
        # is the external PKI's RSA-2048 request; p256 and rsa2048 are certificates of this
        # service's own PKI, whose status comes from its database (through the status cache).
        local -A max_rps
        for key in external rsa2048 p256; do
            local max rate p99
            max=$(run_wrk "$name" "verify-$key max" "$base/v1/verify" "$dir/verify-$key.lua" \
                "$VERIFY_CONNECTIONS")
            max_rps[$key]=$max
            rate=$((max * RATE_PERCENT / 100))
            if ((rate < 1)); then
                log "$name verify-$key: no successful responses at saturation; no fixed-rate run"
                GOAL_LINES+=("$name verify-$key: max 0 2xx req/s: goal NOT met")
                continue
            fi
            p99=$(run_oha "$name" "verify-$key @${RATE_PERCENT}%" "$base/v1/verify" \
                "$dir/verify-$key.json" "$rate")
            GOAL_LINES+=("$name verify-$key: max $max 2xx req/s = $(ratio "$max" "$healthz") x healthz $healthz (goal >= $GOAL_VS_HEALTHZ: $(judge_ratio "$max" "$healthz" "$GOAL_VS_HEALTHZ")); p99 $p99 ms at $rate req/s = ${RATE_PERCENT}% of max (goal < $GOAL_P99_MS ms: $(awk -v p="$p99" -v g="$GOAL_P99_MS" 'BEGIN {print (p < g) ? "met" : "NOT met"}'))")
        done
        # How our own certificates' statuses were answered (hit: from memory; bypass: the status
        # cache could not prove it was current, so the database).
        local lookups
        lookups=$(curl -s "$base/metrics" | awk -F'[{}" ]+' '/^qoltanba_status_lookups_total/ {printf "%s %s ", $3, $4}')
        log "$name: status lookups: ${lookups:-none}"
        GOAL_LINES+=("$name status lookups of own certificates during the run: ${lookups:-none}")
        # Like for like: both RSA-2048, both CMS by `qoltanba sign`; only where the status comes
        # from differs. (P-256 is another algorithm: its ratio is printed, not judged.)
        GOAL_LINES+=("$name own-PKI verify-rsa2048 / external verify-rsa2048: ${max_rps[rsa2048]} / ${max_rps[external]} = $(ratio "${max_rps[rsa2048]}" "${max_rps[external]}") (goal >= $GOAL_OWN_VS_EXTERNAL: $(judge_ratio "${max_rps[rsa2048]}" "${max_rps[external]}" "$GOAL_OWN_VS_EXTERNAL"))")
        GOAL_LINES+=("$name own-PKI verify-p256 / external verify-rsa2048: ${max_rps[p256]} / ${max_rps[external]} = $(ratio "${max_rps[p256]}" "${max_rps[external]}") (another algorithm; no goal)")

        # Memory under a long verification run at the fixed rate: RSS after a warm-up against the
        # end (the status cache, the path cache and the allocator must reach a plateau).
        if [[ $MEMORY_DURATION != 0 ]]; then
            memory_run "$name" "$base" "$dir" "$pid" "$((max_rps[rsa2048] * RATE_PERCENT / 100))"
        fi

        # The same requests must still verify as valid after the load (nothing revoked, no cache
        # gone bad); a 200 with another verdict would otherwise count as throughput.
        for key in p256 rsa2048 external; do
            verdict=$(curl -s -X POST "$base/v1/verify" -H 'content-type: application/json' \
                --data-binary @"$dir/verify-$key.json" | jq -r .verdict)
            [[ $verdict == valid ]] || die "$name: after the load the $key request verifies as '$verdict'"
        done
    fi

    # 5. Stop this server (SIGTERM, wait) before the next backend starts.
    log "$name: stopping the server"
    stop_server "$pid"
    if grep -qiE 'panic|ERROR' "$dir/server.log"; then
        log "$name: the server log has errors:"
        grep -iE 'panic|ERROR' "$dir/server.log" | sort | uniq -c | head -20 >&2
    fi
}

# ---------------------------------------------------------------------------------------------
run_backend sqlite "sqlite://$WORK/sqlite/data/qoltanba.db?mode=rwc" "$BASE_PORT"
documents_on_off sqlite "$BASE_PORT"

if [[ -n $PG_BASE ]]; then
    pg_available
    pg_create_database bench
    run_backend postgres "$PG_BASE/$PG_DB" "$((BASE_PORT + 1))"
    documents_on_off postgres "$((BASE_PORT + 1))"
fi

# ---------------------------------------------------------------------------------------------
# Summary.
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "qoltanba load benchmark: $(nproc) cores, ${CPU_MODEL:-unknown CPU}"
echo "each run $DURATION, wrk -t$THREADS, loopback; load average before $LOAD_BEFORE, after $LOAD_AFTER"
echo "errors = responses >= 400 + socket errors/timeouts (not counted in req/s)"
echo
column -t -s $'\t' "$SUMMARY"
echo
for line in "${GOAL_LINES[@]}"; do echo "$line"; done
