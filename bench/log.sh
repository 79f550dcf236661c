#!/usr/bin/env bash
# bench/log.sh: the transparency log's benchmark (issue #17): proofs per second, the start-up
# check and the first checkpoint over a log of 1,000,000 entries, and `qoltanba log audit` of it.
# (Documents/s with the log on and off is bench/load.sh's documents scenario.)
#
# What it does, on SQLite, with the release binary on 127.0.0.1:
#
#   1. starts `qoltanba serve` on a fresh data directory, issues BENCH_LOG_DOCUMENTS (200)
#      documents over HTTP and waits for a signed checkpoint that covers them;
#   2. checks the answers before any load: GET /v1/documents/{id}/proof is 200 with the entry,
#      the signed checkpoint, its size and `included: true`, and `qoltanba log verify --proof`
#      accepts it against the pinned key (GET /log/key); GET /v1/log/proof/inclusion for the
#      same index is 200 with the checkpoint's size and root and the same hashes;
#   3. load, wrk at saturation (BENCH_PROOF_CONNECTIONS, 32): GET /healthz as the baseline of
#      the same run, then GET /v1/log/proof/inclusion?index=<random in the log> (against the
#      newest checkpoint, as a client asks) and GET /v1/documents/<random issued id>/proof;
#      it prints proofs/s and their ratio to /healthz;
#   4. stops the server, appends BENCH_LOG_ENTRIES (1,000,000) document entries to its log
#      with `log_fill` (examples/log_fill.rs: entries and stored hashes computed by the
#      library's tlog code, written in one transaction), and times that;
#   5. starts the server again on that data directory and times its start and its first
#      checkpoint over the new size; then restarts it and times that start: the start-up check
#      rebuilds the whole tree from the entries and compares every stored hash up to the newest
#      checkpoint before it listens (/healthz answers once it is done), so only now does it
#      cover the million entries;
#   6. steps 2 and 3 again, now against a log of 1,000,000 entries;
#   7. times `qoltanba log audit --url … --key …` (wall clock, BENCH_AUDIT_RUNS times), with
#      what its own timings say: tiles downloaded, tree rebuilt and compared, entries read
#      (goal: under 10 s). BENCH_AUDIT_BEFORE=/path/to/another/qoltanba times that binary's
#      audit of the same log beside it (to compare two builds).
#
# Usage:
#   bench/log.sh
#   BENCH_DURATION=5s BENCH_LOG_ENTRIES=100000 bench/log.sh      # a quick run
#
# Knobs (environment): BENCH_DURATION (15s), BENCH_THREADS (2), BENCH_PROOF_CONNECTIONS (32),
# BENCH_PORT (18500), BENCH_LOG_DOCUMENTS (200), BENCH_LOG_ENTRIES (1000000), BENCH_AUDIT_RUNS
# (2), BENCH_AUDIT_BEFORE, BENCH_SKIP_BUILD=1 (use the built target/release/qoltanba and
# target/release/examples/log_fill), BENCH_KEEP_WORK=1, CARGO_TARGET_DIR.
#
# Needs: cargo, curl, jq, wrk. Loopback only; every load run is bounded by BENCH_DURATION.

set -euo pipefail
shopt -s inherit_errexit

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_setup log-bench

DURATION=${BENCH_DURATION:-15s}
THREADS=${BENCH_THREADS:-2}
CONNECTIONS=${BENCH_PROOF_CONNECTIONS:-32}
PORT=${BENCH_PORT:-18500}
DOCUMENTS=${BENCH_LOG_DOCUMENTS:-200}
ENTRIES=${BENCH_LOG_ENTRIES:-1000000}
AUDIT_RUNS=${BENCH_AUDIT_RUNS:-2}
AUDIT_BEFORE=${BENCH_AUDIT_BEFORE:-}
GOAL_AUDIT_SECONDS=10
FILL=$TARGET_DIR/release/examples/log_fill
BASE=http://127.0.0.1:$PORT

need curl curl
need jq jq
need wrk wrk

CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
log "machine: $(nproc) cores, ${CPU_MODEL:-unknown CPU}; $(uptime | sed 's/^ *//')"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    log "cargo build --release --bin qoltanba --example log_fill (in $REPO)"
    (cd "$REPO" && cargo build --release --quiet --bin qoltanba --example log_fill)
fi
[[ -x $BIN ]] || die "no binary at $BIN"
[[ -x $FILL ]] || die "no log_fill at $FILL"

SUMMARY=$WORK/summary.tsv
printf 'backend\tscenario\ttool\t2xx req/s\tp50 ms\tp99 ms\terrors\n' >"$SUMMARY"
GOAL_LINES=()

# now: seconds since the epoch, with fractions.
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# checkpoint_size: the size in the newest signed checkpoint (its second line).
checkpoint_size() { curl -s --max-time 5 "$BASE/log/checkpoint" | sed -n 2p; }

# wait_for_proof ID: until the document's proof is served (a checkpoint covers it), 30 s at most.
wait_for_proof() {
    for _ in $(seq 1 150); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/v1/documents/$1/proof") == 200 ]] && return 0
        sleep 0.2
    done
    die "document $1: no proof within 30 s"
}

# check_proofs LABEL: the answers are right before any load on them (step 2).
check_proofs() {
    local label=$1 dir=$WORK/sqlite id size status
    id=$(tail -1 "$dir/ids.txt")
    curl -s "$BASE/log/checkpoint" >"$dir/checkpoint"
    size=$(sed -n 2p "$dir/checkpoint")
    status=$(curl -s -o "$dir/document-proof.json" -w '%{http_code}' "$BASE/v1/documents/$id/proof")
    [[ $status == 200 ]] || { cat "$dir/document-proof.json" >&2; die "$label: document proof answered $status"; }
    jq -e --argjson size "$size" '(.index | type == "number") and .size == $size
        and (.entry | startswith("qoltanba-log-entry/1\ndocument "))
        and (.checkpoint | type == "string") and (.hashes | type == "array" and length > 0)
        and .included == true' "$dir/document-proof.json" >/dev/null \
        || { cat "$dir/document-proof.json" >&2; die "$label: the document proof has not the right shape"; }
    # Our own offline verifier, against the key pinned from /log/key.
    jq -j .checkpoint "$dir/document-proof.json" >"$dir/proof-checkpoint"
    "$BIN" log verify --checkpoint "$dir/proof-checkpoint" --key "$dir/log.key" \
        --proof "$dir/document-proof.json" >"$dir/verify.out" \
        || { cat "$dir/verify.out" >&2; die "$label: log verify refused the document proof"; }
    local index
    index=$(jq .index "$dir/document-proof.json")
    status=$(curl -s -o "$dir/inclusion.json" -w '%{http_code}' \
        "$BASE/v1/log/proof/inclusion?index=$index&size=$size")
    [[ $status == 200 ]] || { cat "$dir/inclusion.json" >&2; die "$label: inclusion proof answered $status"; }
    jq -e --argjson size "$size" --argjson index "$index" \
        --arg root "$(sed -n 3p "$dir/checkpoint")" \
        --slurpfile doc "$dir/document-proof.json" \
        '.index == $index and .size == $size and .root == $root and .hashes == $doc[0].hashes' \
        "$dir/inclusion.json" >/dev/null \
        || { cat "$dir/inclusion.json" >&2; die "$label: the inclusion proof is not the document proof's"; }
    log "$label: proofs checked at size $size ($(head -1 "$dir/verify.out"))"
}

# random_get_lua PREAMBLE PATH: a wrk script that GETs the Lua expression PATH, after the Lua
# PREAMBLE; each wrk thread draws its own random sequence (seeded per thread).
random_get_lua() {
    echo "$1"
    cat <<'LUA'
local counter = 0
setup = function(thread) counter = counter + 1; thread:set("seed", counter) end
init = function(args) math.randomseed(os.time() * 100 + seed) end
LUA
    echo "request = function() return wrk.format(\"GET\", $2) end"
    wrk_done_lua
}

# proof_load LABEL: healthz, inclusion and document proofs at saturation (step 3).
proof_load() {
    local label=$1 dir=$WORK/sqlite size healthz inclusion document
    size=$(checkpoint_size)
    wrk_lua "$dir/healthz.lua"
    random_get_lua "local size = $size" \
        '"/v1/log/proof/inclusion?index=" .. math.random(0, size - 1)' >"$dir/inclusion.lua"
    random_get_lua "local ids = {}
for line in io.lines(\"$dir/ids.txt\") do ids[#ids + 1] = line end" \
        '"/v1/documents/" .. ids[math.random(1, #ids)] .. "/proof"' >"$dir/document-proof.lua"
    healthz=$(run_wrk sqlite "$label healthz (baseline)" "$BASE/healthz" "$dir/healthz.lua" "$CONNECTIONS")
    inclusion=$(run_wrk sqlite "$label inclusion proof" "$BASE/v1/log/proof/inclusion" \
        "$dir/inclusion.lua" "$CONNECTIONS")
    document=$(run_wrk sqlite "$label document proof" "$BASE/v1/documents" \
        "$dir/document-proof.lua" "$CONNECTIONS")
    GOAL_LINES+=("$label (log of $size entries): inclusion proofs $inclusion/s = $(ratio "$inclusion" "$healthz") x healthz $healthz; document proofs $document/s = $(ratio "$document" "$healthz") x healthz (no goal set)")
}

# ---------------------------------------------------------------------------------------------
# 1. A server, documents issued over HTTP.
DIR=$WORK/sqlite
DB_URL="sqlite://$DIR/data/qoltanba.db?mode=rwc"
server_env "$DIR" "$DB_URL" "$PORT" bench-log-passphrase QOLTANBA_INLINE_EVIDENCE=false
log "starting qoltanba serve on 127.0.0.1:$PORT"
start_server "$DIR"
PID=$STARTED_PID
TOKEN=$(qcli keys create --name bench --scope sign --scope pki:issue 2>/dev/null)
[[ $TOKEN == qlt_* ]] || die "keys create printed no token"
curl -s "$BASE/log/key" >"$DIR/log.key"
document_body "$DIR/document.json"
: >"$DIR/ids.txt"
for _ in $(seq 1 "$DOCUMENTS"); do
    status=$(curl -s -o "$DIR/issued.json" -w '%{http_code}' -X POST "$BASE/v1/documents" \
        -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
        --data-binary @"$DIR/document.json")
    [[ $status == 201 ]] || { cat "$DIR/issued.json" >&2; die "/v1/documents answered $status"; }
    jq -r .id "$DIR/issued.json" >>"$DIR/ids.txt"
done
wait_for_proof "$(tail -1 "$DIR/ids.txt")"
log "$DOCUMENTS documents issued; the checkpoint covers them (size $(checkpoint_size))"

# 2, 3. Proofs on the small log.
check_proofs "small log"
proof_load "small log"
SIZE_BEFORE=$(checkpoint_size)
stop_server "$PID"

# ---------------------------------------------------------------------------------------------
# 4. A million entries more.
log "log_fill: appending $ENTRIES entries to a log of $SIZE_BEFORE"
started=$(now)
"$FILL" --database "$DB_URL" --entries "$ENTRIES" >"$WORK/fill.out"
FILL_SECONDS=$(since "$started")
sed 's/^/    /' "$WORK/fill.out" >&2
EXPECTED=$((SIZE_BEFORE + ENTRIES))

# 5. Start-up over the large log: the full check before it listens, then the first checkpoint.
started=$(now)
START_TIMEOUT=600 start_server "$DIR"
PID=$STARTED_PID
READY_SECONDS=$(since "$started")
for _ in $(seq 1 3000); do
    [[ $(checkpoint_size) == "$EXPECTED" ]] && break
    sleep 0.2
done
[[ $(checkpoint_size) == "$EXPECTED" ]] || die "no checkpoint of size $EXPECTED within 600 s"
CHECKPOINT_SECONDS=$(since "$started")
log "start-up over $EXPECTED entries: /healthz after $READY_SECONDS s, checkpoint of $EXPECTED after $CHECKPOINT_SECONDS s"
# That start checked the tree only as far as its newest checkpoint (the small log's): the
# entries past it are what the first checkpoint then signs. Started once more, the service
# checks all of them.
stop_server "$PID"
started=$(now)
START_TIMEOUT=600 start_server "$DIR"
PID=$STARTED_PID
FULL_CHECK_SECONDS=$(since "$started")
log "start-up with a checkpoint of $EXPECTED entries: /healthz after $FULL_CHECK_SECONDS s"
GOAL_LINES+=("log_fill: $ENTRIES entries appended in $FILL_SECONDS s (one transaction, SQLite)")
GOAL_LINES+=("first start after the fill (its check stops at the old checkpoint): listening after $READY_SECONDS s, first checkpoint of $EXPECTED signed and served after $CHECKPOINT_SECONDS s")
GOAL_LINES+=("start-up check over a log of $EXPECTED entries (whole tree rebuilt from the entries, every stored hash compared, before it listens): listening after $FULL_CHECK_SECONDS s (no goal set)")

# 6. Proofs on the large log.
check_proofs "large log"
proof_load "large log"

# 7. log audit.
# audit_once TAG LABEL BINARY: one timed `log audit`; its ok lines and its own timings (the
# INFO lines "log audit: … seconds=…" on stderr) are logged.
audit_once() {
    local tag=$1 label=$2 binary=$3 started seconds out=$WORK/audit-$1.out parts
    started=$(now)
    if ! env -u QOLTANBA_CONFIG QOLTANBA_LOG=info "$binary" log audit --url "$BASE" \
        --key "$DIR/log.key" >"$out" 2>"$out.err"; then
        cat "$out" "$out.err" >&2
        die "$label: log audit failed"
    fi
    seconds=$(since "$started")
    sed 's/^/    /' "$out" >&2
    parts=$(awk '/log audit: / {
        msg = $0; sub(/.*log audit: /, "", msg); sub(/ [a-z_]+=.*/, "", msg)
        if (match($0, /seconds=[0-9.]+/)) {
            printf "%s%s %.2f s", (n++ ? "; " : ""), msg, substr($0, RSTART + 8, RLENGTH - 8)
        } }' "$out.err")
    log "$label: log audit of $EXPECTED entries took $seconds s${parts:+ ($parts)}"
    GOAL_LINES+=("$label: log audit of $EXPECTED entries: $seconds s (goal < $GOAL_AUDIT_SECONDS s: $(awk -v s="$seconds" -v g="$GOAL_AUDIT_SECONDS" 'BEGIN { print (s < g) ? "met" : "NOT met" }'))${parts:+; $parts}")
}
for run in $(seq 1 "$AUDIT_RUNS"); do
    audit_once "$run" "run $run" "$BIN"
    if [[ -n $AUDIT_BEFORE ]]; then
        audit_once "$run-before" "run $run, $AUDIT_BEFORE" "$AUDIT_BEFORE"
    fi
done
stop_server "$PID"
if grep -qiE 'panic|ERROR' "$DIR/server.log"; then
    log "the server log has errors:"
    grep -iE 'panic|ERROR' "$DIR/server.log" | sort | uniq -c | head -20 >&2
fi

# ---------------------------------------------------------------------------------------------
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "qoltanba transparency log benchmark: $(nproc) cores, ${CPU_MODEL:-unknown CPU}"
echo "each load run $DURATION, wrk -t$THREADS -c$CONNECTIONS, loopback, SQLite; load average before $LOAD_BEFORE, after $LOAD_AFTER"
echo "errors = responses >= 400 + socket errors/timeouts (not counted in req/s)"
echo
column -t -s $'\t' "$SUMMARY"
echo
for line in "${GOAL_LINES[@]}"; do echo "$line"; done
