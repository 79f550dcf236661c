#!/usr/bin/env bash
# bench/soak.sh: a load-and-fault soak of two `qoltanba serve` instances on one PostgreSQL
# database (issue #12), loopback only, bounded by SOAK_DURATION.
#
#   1. builds the release binary, creates a fresh database (dropped again at the end), starts
#      instances A and B on it (127.0.0.1, two ports, one CA passphrase, one public URL);
#   2. prepares the inputs: an API key (sign, pki:issue), a P-256 certificate and a request
#      signed with it (the /v1/verify body), a /v1/documents body, an OCSP request for that
#      certificate and the path of its CRL, and a CMS with 1,000 SignerInfos;
#   3. runs bench/soak.py's traffic for SOAK_DURATION seconds, round-robin over A and B at
#      SOAK_RATE requests/s: verify, sign a document, read one back, OCSP, CRL, health, and
#      hostile requests (a 401 with a 64,000-character path, made-up keys, 1,000 SignerInfos,
#      a body over the limit, connections that never finish their headers);
#   4. meanwhile, at a third of the run, kills A with SIGKILL and starts it again; at two
#      thirds, restarts PostgreSQL (SOAK_PG_RESTART); and samples both instances' RSS from
#      /proc every 5 s;
#   5. checks (bench/soak.py check): no failed request outside the two fault windows (from
#      each fault to SOAK_FAULT_WINDOW seconds after recovery; the failures inside are counted
#      apart); every acknowledged document is stored, has its audit row and reads back over
#      HTTP; the registration numbers are gap-free and match their counter; each instance's RSS
#      at the end is within SOAK_RSS_TOLERANCE % of its warm value (SOAK_WARM seconds after it
#      started; the killed incarnation of A is not judged); no panic in the logs.
#
# It prints a summary and exits 1 if any check fails.
#
# Usage:
#   bench/soak.sh                            # 10 minutes
#   SOAK_DURATION=60 bench/soak.sh           # a quick run
#
# Knobs (environment):
#   SOAK_DURATION            seconds of traffic                                    [600]
#   SOAK_RATE                requests/s over both instances                        [50]
#   SOAK_WORKERS             client threads                                        [8]
#   SOAK_SLOW_CONNECTIONS    connections that never finish their headers, at once  [4]
#   SOAK_FAULT_WINDOW        seconds after each recovery still counted in its fault [15]
#   SOAK_WARM                seconds after an instance starts when its RSS is warm  [60, or a
#                            quarter of the run when that is shorter]
#   SOAK_RSS_TOLERANCE       allowed RSS growth after warm-up, %                   [20]
#   SOAK_PORT                A listens here, B on the next port                    [18490]
#   SOAK_PG_RESTART          how to restart PostgreSQL          [pg_ctlcluster 15 main restart]
#   QOLTANBA_BENCH_POSTGRES  PostgreSQL URL base      [postgres://qoltanba:qoltanba@127.0.0.1:5432]
#   BENCH_SKIP_BUILD=1       use the existing target/release/qoltanba
#   BENCH_KEEP_WORK=1        keep the work directory (logs, requests.tsv, dumps)
#
# Restarting PostgreSQL cuts every other client of the cluster too: do not run the soak while
# others use it. Needs: cargo, curl, jq, openssl, psql, python3, and root for pg_ctlcluster.

set -euo pipefail
shopt -s inherit_errexit

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_setup soak

DURATION=${SOAK_DURATION:-600}
PORT=${SOAK_PORT:-18490}
PG_BASE=${QOLTANBA_BENCH_POSTGRES:-postgres://qoltanba:qoltanba@127.0.0.1:5432}
PG_RESTART=${SOAK_PG_RESTART:-pg_ctlcluster 15 main restart}
WARM=${SOAK_WARM:-$((DURATION / 4 < 60 ? DURATION / 4 : 60))}
HEADER_TIMEOUT=10
export SOAK_DURATION=$DURATION SOAK_WARM=$WARM SOAK_HEADER_TIMEOUT=$HEADER_TIMEOUT
DRIVER="python3 $REPO/bench/soak.py"

need curl curl
need jq jq
need openssl openssl
need python3 python3
pg_available
build_release
pg_create_database soak
DB_URL=$PG_BASE/$PG_DB
RUN=$WORK/run
INPUTS=$WORK/inputs
mkdir -p "$RUN" "$INPUTS"
event() { printf '%s\t%s\n' "$(date +%s.%N)" "$1" >>"$RUN/events.tsv"; }

# ---------------------------------------------------------------------------------------------
# 1. Two instances on one database. A starts first and creates the PKI; B finds it. The leader
#    republishes due CRLs every 10 s, so leadership moves when A dies.
A_PORT=$PORT
B_PORT=$((PORT + 1))
BASE_A=http://127.0.0.1:$A_PORT
BASE_B=http://127.0.0.1:$B_PORT
instance_env() {
    server_env "$WORK/$1" "$DB_URL" "$2" "soak-ca-passphrase" \
        QOLTANBA_PUBLIC_URL="$BASE_A" QOLTANBA_CRL_REFRESH_SECONDS=10 \
        QOLTANBA_HEADER_READ_TIMEOUT_SECONDS="$HEADER_TIMEOUT"
}
instance_env a "$A_PORT"
log "starting A on 127.0.0.1:$A_PORT"
start_server "$WORK/a"
PID_A=$STARTED_PID
instance_env b "$B_PORT"
log "starting B on 127.0.0.1:$B_PORT"
start_server "$WORK/b"
PID_B=$STARTED_PID

# ---------------------------------------------------------------------------------------------
# 2. Inputs.
TOKEN=$(qcli keys create --name soak --scope sign --scope pki:issue 2>/dev/null)
[[ $TOKEN == qlt_* ]] || die "keys create printed no token"
printf '%s\n' "$TOKEN" >"$INPUTS/token"
signed_request "$INPUTS" "$BASE_A" "$TOKEN" p256
cp "$INPUTS/verify-p256.json" "$INPUTS/verify.json"
document_body "$INPUTS/document.json"
# The certificate and its issuer, for OCSP; its CDP names the CRL.
openssl pkcs12 -in "$INPUTS/p256.p12" -passin pass:bench -nokeys -clcerts -out "$INPUTS/leaf.pem"
jq -r .ca_chain_pem "$INPUTS/issued-p256.json" | openssl x509 -out "$INPUTS/issuer.pem"
openssl ocsp -issuer "$INPUTS/issuer.pem" -cert "$INPUTS/leaf.pem" -no_nonce \
    -reqout "$INPUTS/ocsp.der" >/dev/null
openssl x509 -in "$INPUTS/leaf.pem" -noout -ext crlDistributionPoints \
    | grep -o 'URI:http[^ ]*' | head -1 | sed 's|^URI:http://[^/]*||' >"$INPUTS/crl-path"
[[ -s $INPUTS/crl-path ]] || die "the certificate names no CRL"
$DRIVER many-signers "$INPUTS/request-p256.p7s" 1000 "$INPUTS/many-signers.json"
log "inputs ready: CRL at $(cat "$INPUTS/crl-path"), $(stat -c %s "$INPUTS/many-signers.json") bytes of 1,000 SignerInfos"

# ---------------------------------------------------------------------------------------------
# 3 and 4. Traffic, faults and RSS samples.
rss() {
    local name=$1 pid=$2 kb
    kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || return 0
    [[ -n $kb ]] && printf '%s\t%s\t%s\t%s\n' "$(date +%s)" "$name" "$pid" "$kb" >>"$RUN/rss.tsv"
    return 0
}

log "traffic: ${DURATION} s at ${SOAK_RATE:-50} requests/s over A and B"
event start
$DRIVER traffic "$RUN" "$INPUTS" "$BASE_A" "$BASE_B" &
TRAFFIC=$!
STARTED=$(date +%s)
KILL_AT=$((STARTED + DURATION / 3))
PG_AT=$((STARTED + 2 * DURATION / 3))
killed=0
restarted=0
while kill -0 "$TRAFFIC" 2>/dev/null; do
    now=$(date +%s)
    if ((killed == 0 && now >= KILL_AT)); then
        killed=1
        log "fault 1: kill -9 A (pid $PID_A), then start it again"
        event kill_a
        kill -KILL "$PID_A"
        wait "$PID_A" 2>/dev/null || true
        still=()
        for pid in "${SERVER_PIDS[@]}"; do [[ $pid == "$PID_A" ]] || still+=("$pid"); done
        SERVER_PIDS=("${still[@]}")
        instance_env a "$A_PORT"
        start_server "$WORK/a"
        PID_A=$STARTED_PID
        event a_ready
        log "A is back (pid $PID_A)"
    fi
    if ((restarted == 0 && now >= PG_AT)); then
        restarted=1
        log "fault 2: $PG_RESTART"
        event pg_restart
        $PG_RESTART
        until psql "$PG_BASE/postgres" -qXAt -c 'SELECT 1' >/dev/null 2>&1; do sleep 0.2; done
        event pg_ready
        log "PostgreSQL is back"
    fi
    rss A "$PID_A"
    rss B "$PID_B"
    sleep 5 &
    wait $! || true
done
wait "$TRAFFIC" || die "the traffic driver failed"
rss A "$PID_A"
rss B "$PID_B"
event end

# ---------------------------------------------------------------------------------------------
# 5. Checks.
dump() { psql "$DB_URL" -qXAt -F $'\t' -v ON_ERROR_STOP=1 -c "$1" >"$RUN/$2"; }
dump "SELECT id, number, authority_bin, year, sequence FROM documents" documents.tsv
dump "SELECT authority_bin, year, value FROM document_counters" counters.tsv
# The audit row of a document names its number (today "signed document NUMBER kind …").
dump "SELECT replace(target || ' ' || detail, E'\t', ' ') FROM audit_log
      WHERE action = 'POST /v1/documents' AND outcome = 'ok'" audit.tsv
status=0
$DRIVER check "$RUN" "$BASE_A" "$BASE_B" || status=1
for name in a b; do
    if grep -q 'panicked' "$WORK/$name/server.log"; then
        log "FAIL: instance ${name^^} panicked:"
        grep -m5 'panicked' "$WORK/$name/server.log" >&2
        status=1
    fi
done
echo
echo "soak: ${DURATION} s, ${SOAK_RATE:-50} requests/s, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "requests: $(wc -l <"$RUN/requests.tsv"), documents acknowledged: $(wc -l <"$RUN/acked.tsv")"
if ((status != 0)); then
    BENCH_KEEP_WORK=1
    echo "soak: FAILED (work directory kept: $WORK)"
fi
exit "$status"
