# bench/lib.sh: what bench/load.sh and bench/soak.sh share. Sourced, never run.
#
#   bench_setup TAG          a work directory ($WORK) and an EXIT trap that stops every server
#                            in SERVER_PIDS and drops every database in PG_DATABASES
#   log, die                 messages on stderr, tagged with TAG and the time
#   need CMD PACKAGE         a tool, installed from Debian when missing and running as root
#   build_release            cargo build --release (skipped with BENCH_SKIP_BUILD=1); sets BIN
#   server_env DIR URL PORT PASSPHRASE [NAME=VALUE...]
#                            sets SERVER_ENV, the environment of a server and of the CLI
#   start_server DIR         starts `qoltanba serve` ($BIN) with SERVER_ENV, waits for /healthz
#                            (START_TIMEOUT seconds, 120); sets STARTED_PID (and adds it to
#                            SERVER_PIDS)
#   qcli ARGS...             the CLI with SERVER_ENV (same database as the server)
#   stop_server PID          SIGTERM, up to 20 s, then SIGKILL
#   pg_available             PG_BASE answers (the local cluster is started when it does not)
#   pg_create_database NAME  a fresh database on PG_BASE, dropped by the trap; sets PG_DB
#   signed_request DIR BASE TOKEN KEY
#                            issues a KEY certificate, signs a request with it: DIR/KEY.p12,
#                            DIR/issued-KEY.json, DIR/request-KEY.p7s and DIR/verify-KEY.json,
#                            a /v1/verify body that must verify as valid
#   document_body FILE       a /v1/documents body (a license)
#   wrk_lua FILE [BODY [TOKEN]]
#                            a wrk script: POST BODY as JSON (GET without), and the BENCH line
#   wrk_done_lua             the wrk `done` hook that prints the BENCH line (for own scripts)
#   run_wrk BACKEND SCENARIO URL LUA CONNECTIONS
#                            a saturation run (THREADS, DURATION); a row in $SUMMARY; 2xx/s
#   ratio A B, judge_ratio A B GOAL
#                            A/B with two decimals; "met" when A/B >= GOAL
#
# Every server listens on 127.0.0.1 only.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
BIN=$TARGET_DIR/release/qoltanba
PG_BASE=${QOLTANBA_BENCH_POSTGRES:-}
LOG_TAG=bench

log() { printf '[%s %s] %s\n' "$LOG_TAG" "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

stop_server() {
    # SIGTERM (the server shuts down gracefully: it finishes in-flight requests and closes
    # the store), wait up to 20 s, then SIGKILL as a last resort.
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 200); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "server $pid did not stop within 20 s of SIGTERM; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
    local status=$?
    set +e
    for pid in "${SERVER_PIDS[@]}"; do stop_server "$pid"; done
    for db in "${PG_DATABASES[@]}"; do
        psql "$PG_BASE/postgres" -qX -v ON_ERROR_STOP=1 \
            -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 \
            || log "could not drop PostgreSQL database $db; drop it by hand"
    done
    if [[ ${BENCH_KEEP_WORK:-0} == 1 ]]; then
        log "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$status"
}

# Temporary files, servers and databases are tracked here and removed by the EXIT trap, on
# success and on error alike.
bench_setup() {
    LOG_TAG=$1
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/qoltanba-$1.XXXXXX")
    SERVER_PIDS=()
    PG_DATABASES=()
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

need() {
    # need COMMAND APT-PACKAGE: install from Debian when missing and running as root.
    command -v "$1" >/dev/null 2>&1 && return 0
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        log "installing $2 (apt-get)"
        apt-get install -y "$2" >/dev/null 2>&1 \
            || { apt-get update >/dev/null 2>&1 && apt-get install -y "$2" >/dev/null 2>&1; } \
            || die "apt-get install $2 failed"
    fi
    command -v "$1" >/dev/null 2>&1 || die "$1 is needed (Debian package $2)"
}

build_release() {
    # The machine is shared: "Blocking waiting for file lock" from cargo is normal and only
    # means another build holds the lock.
    if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
        log "cargo build --release (in $REPO)"
        (cd "$REPO" && cargo build --release --quiet)
    fi
    [[ -x $BIN ]] || die "no binary at $BIN"
}

server_env() {
    # Everything the server and the CLI need, so that `keys create` hits the same database.
    # QOLTANBA_CONFIG is cleared so that no config file of the caller's leaks in.
    local dir=$1 url=$2 port=$3 passphrase=$4
    shift 4
    SERVER_ENV=(
        -u QOLTANBA_CONFIG
        QOLTANBA_DATA_DIR="$dir/data"
        QOLTANBA_LISTEN="127.0.0.1:$port"
        QOLTANBA_DATABASE_URL="$url"
        QOLTANBA_CA_PASSPHRASE="$passphrase"
        QOLTANBA_RATE_LIMIT_PER_MINUTE=0
        QOLTANBA_LOG=warn
        "$@"
    )
    mkdir -p "$dir/data"
}

qcli() { env "${SERVER_ENV[@]}" "$BIN" "$@"; }

start_server() {
    # The first start creates the test PKI (CA keys), which takes a while. The log is
    # appended to, so a restarted server keeps the earlier log.
    local dir=$1 listen base
    listen=$(printf '%s\n' "${SERVER_ENV[@]}" | sed -n 's/^QOLTANBA_LISTEN=//p')
    base=http://$listen
    if curl -s -o /dev/null --max-time 2 "$base/healthz"; then
        die "something already answers on $listen; choose other ports"
    fi
    env "${SERVER_ENV[@]}" "$BIN" serve >>"$dir/server.log" 2>&1 &
    STARTED_PID=$!
    SERVER_PIDS+=("$STARTED_PID")
    # START_TIMEOUT (seconds, 120): a large log's start-up check takes its time.
    local timeout=${START_TIMEOUT:-120}
    for _ in $(seq 1 $((timeout * 5))); do
        kill -0 "$STARTED_PID" 2>/dev/null \
            || { tail -20 "$dir/server.log" >&2; die "the server on $listen exited"; }
        if [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$base/healthz") == 200 ]]; then
            return 0
        fi
        sleep 0.2
    done
    tail -20 "$dir/server.log" >&2
    die "$listen: /healthz not 200 after $timeout s"
}

pg_available() {
    [[ -n $PG_BASE ]] || die "no PostgreSQL URL (QOLTANBA_BENCH_POSTGRES)"
    need psql postgresql-client
    if ! psql "$PG_BASE/postgres" -qXAt -c 'SELECT 1' >/dev/null 2>&1; then
        # The local cluster may be stopped; start it when we can (root, Debian's tools).
        if [[ $(id -u) -eq 0 ]] && command -v pg_ctlcluster >/dev/null; then
            log "PostgreSQL is not answering; pg_ctlcluster 15 main start"
            pg_ctlcluster 15 main start || true
            sleep 2
        fi
        psql "$PG_BASE/postgres" -qXAt -c 'SELECT 1' >/dev/null || die "cannot reach $PG_BASE/postgres"
    fi
}

pg_create_database() {
    PG_DB="qoltanba_$1_$$_$(date +%s)"
    psql "$PG_BASE/postgres" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
    PG_DATABASES+=("$PG_DB")
    log "postgres: created database $PG_DB ($(psql "$PG_BASE/postgres" -qXAt -c 'SHOW server_version'))"
}

signed_request() {
    # Issue a certificate, sign the applicant's JSON with it (CAdES-BES, content attached),
    # wrap the CMS as the /v1/verify body, check it once.
    local dir=$1 base=$2 token=$3 key=$4
    printf '%s' '{"applicant":{"iin":"900517312343"}}' >"$dir/request.json"
    printf 'bench\n' >"$dir/p12-password"
    local issue_req status verdict
    issue_req=$(jq -nc --arg key "$key" '{profile: "individual-sign", iin: "900517312343",
        surname: "ТЕСТОВ", given_name: "ТЕСТ", patronymic: "ТЕСТОВИЧ",
        password: "bench", key: $key}')
    status=$(curl -s -o "$dir/issued-$key.json" -w '%{http_code}' -X POST \
        "$base/v1/pki/certificates" -H "authorization: Bearer $token" \
        -H 'content-type: application/json' --data-binary "$issue_req")
    [[ $status == 201 ]] || { cat "$dir/issued-$key.json" >&2; die "issuing a $key certificate answered $status"; }
    jq -r .pkcs12_base64 "$dir/issued-$key.json" | base64 -d >"$dir/$key.p12"
    qcli sign --input "$dir/request.json" --key "$dir/$key.p12" \
        --password-file "$dir/p12-password" --out "$dir/request-$key.p7s" >/dev/null
    jq -nc --rawfile sig <(base64 -w0 "$dir/request-$key.p7s") '{signature: $sig}' \
        >"$dir/verify-$key.json"
    verdict=$(curl -s -X POST "$base/v1/verify" -H 'content-type: application/json' \
        --data-binary @"$dir/verify-$key.json" | jq -r .verdict)
    [[ $verdict == valid ]] || die "the $key request verifies as '$verdict', not valid"
}

document_body() {
    # The /v1/documents body (schema: src/sign/document.rs, README "Signing documents").
    cat >"$1" <<'JSON'
{"kind":"license","payload":{"authority":{"name":"ЛИЦЕНЗИАР (ҚОЛТАҢБА ТЕСТ)","bin":"950341000052"},"recipient":{"name":"ТОО \"Әлем Фарм\"","bin":"940140000385"},"activity":"Фармацевтическая деятельность","issued_on":"2026-11-23","request_id":"REQ-1"}}
JSON
}

external_pki() {
    # A PKI this server did not make, for the "external" verification scenario: a second
    # qoltanba PKI in its own SQLite file, with its own CA names (an edited copy of pki/), an
    # RSA-2048 individual-sign certificate, a request signed with it, the CA chain and both
    # CAs' CRLs. The server under test is then given the chain as trust and the CRLs as files,
    # as a portal that trusts NCA's CAs would be: its own database plays no part.
    local dir=$1 ext=$1/external
    mkdir -p "$ext/data"
    cp -r "$REPO/pki" "$ext/pki"
    sed -i -e 's/qoltanba_root_rsa_test/external_root_rsa_test/' \
        -e 's/"qoltanba_rsa_test"/"external_rsa_test"/' \
        -e 's/ҚОЛТАҢБА ТҮБІР (RSA) TEST/EXTERNAL ROOT (RSA) TEST/' \
        -e 's/ҰКО ҚОЛТАҢБА (RSA) TEST/EXTERNAL CA (RSA) TEST/' "$ext/pki/hierarchy.toml"
    local env=(-u QOLTANBA_CONFIG QOLTANBA_DATA_DIR="$ext/data" QOLTANBA_PKI_DIR="$ext/pki"
        QOLTANBA_DATABASE_URL="sqlite://$ext/external.db?mode=rwc"
        QOLTANBA_CA_PASSPHRASE=external-bench-passphrase QOLTANBA_LOG=warn)
    printf 'bench\n' >"$dir/p12-password"
    printf '%s' '{"applicant":{"iin":"900517312343"}}' >"$dir/request.json"
    env "${env[@]}" "$BIN" pki init >/dev/null
    env "${env[@]}" "$BIN" pki issue --profile individual-sign --iin 900517312343 \
        --surname ТЕСТОВ --given-name ТЕСТ --patronymic ТЕСТОВИЧ --key rsa2048 \
        --out "$ext/leaf.p12" --password-file "$dir/p12-password" >/dev/null
    env "${env[@]}" "$BIN" pki ca --out "$ext/chain.pem"
    env "${env[@]}" "$BIN" pki crl --out "$ext/issuing.crl"
    env "${env[@]}" "$BIN" pki crl --ca external_root_rsa_test --out "$ext/root.crl"
    env "${env[@]}" "$BIN" sign --input "$dir/request.json" --key "$ext/leaf.p12" \
        --password-file "$dir/p12-password" --out "$ext/request.p7s" >/dev/null
    jq -nc --rawfile sig <(base64 -w0 "$ext/request.p7s") '{signature: $sig}' \
        >"$dir/verify-external.json"
    EXTERNAL_ENV=(QOLTANBA_VERIFY_TRUST="$ext/chain.pem"
        QOLTANBA_VERIFY_CRLS="$ext/issuing.crl:$ext/root.crl")
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# wrk_lua FILE BODY-FILE [TOKEN]: a wrk script that POSTs the body as JSON, and at the end
# prints one machine-readable line from wrk's own counters (no parsing of its text report):
#   BENCH requests=N duration_us=N status_errors=N connect=N read=N write=N timeout=N p50_us=N p99_us=N
# wrk's status_errors counts responses with status > 399, i.e. 4xx and 5xx.
# With no BODY-FILE it is a plain GET (the /healthz baseline).
wrk_lua() {
    local lua=$1 body=${2:-} token=${3:-}
    {
        if [[ -n $body ]]; then
            echo 'wrk.method = "POST"'
            echo 'wrk.headers["content-type"] = "application/json"'
            if [[ -n $token ]]; then echo "wrk.headers[\"authorization\"] = \"Bearer $token\""; fi
            echo "local f = assert(io.open(\"$body\", \"rb\"))"
            echo 'wrk.body = f:read("*a")'
            echo 'f:close()'
        fi
        wrk_done_lua
    } >"$lua"
}

# wrk_done_lua: wrk's `done` hook, printing the BENCH line from wrk's own counters.
wrk_done_lua() {
    cat <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d status_errors=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
LUA
}

# run_wrk BACKEND SCENARIO URL LUA CONNECTIONS: a saturation run; appends a summary row and
# prints the 2xx req/s on stdout.
run_wrk() {
    local backend=$1 scenario=$2 url=$3 lua=$4 conns=$5
    local out=$WORK/$backend-$scenario.wrk
    log "$backend $scenario: wrk -t$THREADS -c$conns -d$DURATION --latency"
    wrk -t"$THREADS" -c"$conns" -d"$DURATION" --timeout 10s --latency -s "$lua" "$url" >"$out"
    grep -v '^BENCH ' "$out" | sed 's/^/    /' >&2
    local line
    line=$(grep '^BENCH ' "$out") || die "wrk printed no BENCH line"
    # BENCH key=value ... -> "ok_rps p50_ms p99_ms errors"
    local row ok_rps p50 p99 errors
    row=$(awk '{
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        ok = v["requests"] - v["status_errors"]
        printf "%.0f %.2f %.2f %d\n", ok / (v["duration_us"] / 1e6), v["p50_us"] / 1000,
            v["p99_us"] / 1000, v["status_errors"] + v["connect"] + v["read"] + v["write"] + v["timeout"]
    }' <<<"$line")
    read -r ok_rps p50 p99 errors <<<"$row"
    log "    2xx/s $ok_rps, p50 ${p50} ms, p99 ${p99} ms, errors $errors"
    printf '%s\t%s\twrk -c%s\t%s\t%s\t%s\t%s\n' "$backend" "$scenario" "$conns" "$ok_rps" \
        "$p50" "$p99" "$errors" >>"$SUMMARY"
    echo "$ok_rps"
}


# ratio A B: A/B with two decimals ("n/a" when B is 0).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# judge_ratio A B GOAL: "met" when A/B >= GOAL.
judge_ratio() {
    awk -v a="$1" -v b="$2" -v g="$3" 'BEGIN { print (b > 0 && a / b >= g) ? "met" : "NOT met" }'
}
