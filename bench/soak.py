#!/usr/bin/env python3
"""bench/soak.py: the traffic and the checks of bench/soak.sh. Python 3 standard library only.

    soak.py many-signers P7S N OUT     a /v1/verify body: the CMS with its SignerInfo N times
    soak.py traffic RUN INPUTS BASE... mixed traffic, round-robin over the instances, until
                                       SOAK_DURATION seconds have passed
    soak.py check RUN BASE...          the checks, after the traffic; exit status 1 if any fails

RUN is the run directory shared with soak.sh. The traffic writes there:
    requests.tsv   one line per request: start, end, kind, instance, ok (1/0), status, detail
    acked.tsv      one line per acknowledged document: time, instance, id, number
soak.sh writes events.tsv (time, event) and rss.tsv (time, name, pid, RSS in KiB), and the
database dumps the check reads (documents.tsv, counters.tsv, audit.tsv).
"""

import base64
import http.client
import json
import os
import random
import re
import socket
import sys
import threading
import time

# The request mix: kind and weight. Hostile requests (issue 12, items 1 and 2): a 401 with a
# 64,000-character path, made-up keys, a CMS with 1,000 SignerInfos, a body over the 16 MiB
# limit; and, on their own threads, connections that never finish their headers.
MIX = [
    ("verify", 30),
    ("document_sign", 10),
    ("document_get", 10),
    ("ocsp", 10),
    ("crl", 5),
    ("healthz", 5),
    ("unauthorised_long_path", 5),
    ("made_up_key", 5),
    ("many_signers", 2),
    ("oversize", 1),
]
TIMEOUT = 40  # beyond the service's 30 s request timeout
VERIFY_LIMIT = 16 * 1024 * 1024


def env_int(name, default):
    return int(os.environ.get(name, default))


# ------------------------------------------------------------------------------------------
# DER, just enough to repeat a SignerInfo.


def read_tlv(der, at):
    """(tag, content start, content end) of the TLV at `at`."""
    tag, length = der[at], der[at + 1]
    at += 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(der[at : at + n], "big")
        at += n
    return tag, at, at + length


def children(der, start, end):
    out = []
    while start < end:
        tag, s, e = read_tlv(der, start)
        out.append((tag, start, e))
        start = e
    return out


def tlv(tag, content):
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def many_signers(p7s, n):
    """ContentInfo { oid, [0] SignedData { ..., signerInfos SET } } with one SignerInfo n times."""
    _, s, e = read_tlv(p7s, 0)
    oid, wrapper = children(p7s, s, e)
    _, ws, we = read_tlv(p7s, wrapper[1])
    _, ss, se = read_tlv(p7s, ws)
    fields = children(p7s, ss, se)
    tag, fs, fe = fields[-1]
    assert tag == 0x31, "signerInfos is the last field of SignedData"
    _, is_, _ = read_tlv(p7s, fs)
    first = children(p7s, is_, fe)[0]
    signer = p7s[first[1] : first[2]]
    signed = tlv(0x30, b"".join(p7s[a:b] for _, a, b in fields[:-1]) + tlv(0x31, signer * n))
    return tlv(0x30, p7s[oid[1] : oid[2]] + tlv(0xA0, signed))


# ------------------------------------------------------------------------------------------
# Traffic.


class Recorder:
    def __init__(self, run):
        self.lock = threading.Lock()
        self.requests = open(os.path.join(run, "requests.tsv"), "a", buffering=1)
        self.acked_file = open(os.path.join(run, "acked.tsv"), "a", buffering=1)
        self.acked = []  # (id, number): what document_get reads back

    def request(self, start, kind, instance, ok, status, detail):
        detail = str(detail).replace("\t", " ").replace("\n", " ")[:200]
        line = f"{start:.3f}\t{time.time():.3f}\t{kind}\t{instance}\t{int(ok)}\t{status}\t{detail}\n"
        with self.lock:
            self.requests.write(line)

    def ack(self, instance, doc_id, number):
        with self.lock:
            self.acked_file.write(f"{time.time():.3f}\t{instance}\t{doc_id}\t{number}\n")
            self.acked.append((doc_id, number))

    def some_acked(self, rng):
        with self.lock:
            return rng.choice(self.acked) if self.acked else None


class Client:
    """Keep-alive connections to each instance, one worker's."""

    def __init__(self, bases):
        self.hosts = [b.removeprefix("http://") for b in bases]
        self.conns = {}

    def call(self, instance, method, path, body=None, headers=None, retry=True):
        """(status, headers, body); status 0 and the error as the body on a socket failure."""
        conn = self.conns.get(instance)
        fresh = conn is None
        if fresh:
            conn = http.client.HTTPConnection(self.hosts[instance], timeout=TIMEOUT)
            self.conns[instance] = conn
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
            if response.will_close:
                self.drop(instance)
            return response.status, response.headers, data
        except (OSError, http.client.HTTPException) as e:
            self.drop(instance)
            # A kept-alive connection the server closed meanwhile: once more on a new one,
            # as HTTP clients do, for requests that change nothing.
            if retry and not fresh and (method == "GET" or path in IDEMPOTENT_POSTS):
                return self.call(instance, method, path, body, headers, retry=False)
            return 0, {}, f"{type(e).__name__}: {e}".encode()

    def drop(self, instance):
        conn = self.conns.pop(instance, None)
        if conn is not None:
            conn.close()


IDEMPOTENT_POSTS = {"/v1/verify", "/pki/ocsp"}


def json_of(data):
    try:
        return json.loads(data)
    except (ValueError, TypeError):
        return {}


class Traffic:
    def __init__(self, run, inputs, bases):
        self.bases = bases
        self.rec = Recorder(run)
        read = lambda name: open(os.path.join(inputs, name), "rb").read()
        self.verify = read("verify.json")
        self.document = read("document.json")
        self.ocsp = read("ocsp.der")
        self.many = read("many-signers.json")
        self.token = read("token").decode().strip()
        self.crl_path = read("crl-path").decode().strip()
        self.long_path = "/v1/pki/certificates/" + "A" * 64_000

    def one(self, client, rng, kind, i):
        """(ok, status, detail) of one request of this kind on instance i."""
        json_type = {"content-type": "application/json"}
        if kind == "verify":
            status, _, data = client.call(i, "POST", "/v1/verify", self.verify, json_type)
            verdict = json_of(data).get("verdict") if status == 200 else data[:200]
            return status == 200 and verdict == "valid", status, verdict
        if kind == "document_sign":
            headers = dict(json_type, authorization=f"Bearer {self.token}")
            status, _, data = client.call(i, "POST", "/v1/documents", self.document, headers)
            doc = json_of(data)
            if status == 201 and doc.get("id") and doc.get("number"):
                self.rec.ack(i, doc["id"], doc["number"])
                return True, status, doc["number"]
            return False, status, data[:200]
        if kind == "document_get":
            known = self.rec.some_acked(rng)
            if known is None:
                return self.one(client, rng, "healthz", i)
            status, _, data = client.call(i, "GET", f"/v1/documents/{known[0]}")
            ok = status == 200 and known[1] in data.decode("utf-8", "replace")
            return ok, status, known[1] if ok else data[:200]
        if kind == "ocsp":
            headers = {"content-type": "application/ocsp-request"}
            status, _, data = client.call(i, "POST", "/pki/ocsp", self.ocsp, headers)
            # OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, ... }: 0 is successful.
            answer = ocsp_status(data)
            return status == 200 and answer == 0, status, answer if status == 200 else data[:200]
        if kind == "crl":
            status, _, data = client.call(i, "GET", self.crl_path)
            ok = status == 200 and data[:1] == b"\x30"
            return ok, status, len(data) if ok else data[:200]
        if kind == "healthz":
            status, _, data = client.call(i, "GET", "/healthz")
            return status == 200, status, "" if status == 200 else data[:200]
        if kind == "unauthorised_long_path":
            status, _, data = client.call(i, "GET", self.long_path)
            return status == 401, status, "" if status == 401 else data[:200]
        if kind == "made_up_key":
            key = "qlt_%016x_%s" % (rng.getrandbits(64), "x" * 43)
            headers = {"authorization": f"Bearer {key}"}
            status, _, data = client.call(i, "GET", "/v1/pki/certificates", headers=headers)
            return status == 401, status, "" if status == 401 else data[:200]
        if kind == "many_signers":
            status, _, data = client.call(i, "POST", "/v1/verify", self.many, json_type)
            ok = status == 200 and b"TOO_MANY_SIGNERS" in data
            return ok, status, "" if ok else data[:200]
        if kind == "oversize":
            status, detail = oversize(client.hosts[i])
            return status == 413, status, detail
        raise ValueError(kind)

    def worker(self, w, workers, rate, until):
        rng = random.Random(w)
        client = Client(self.bases)
        plan = [kind for kind, weight in MIX for _ in range(weight)]
        random.Random(0).shuffle(plan)
        started = time.time()
        k = 0
        while True:
            due = started + (w + k * workers) / rate
            if due >= until:
                return
            time.sleep(max(0.0, due - time.time()))
            kind = plan[(k * workers + w) % len(plan)]
            i = (k + w) % len(self.bases)
            begun = time.time()
            try:
                ok, status, detail = self.one(client, rng, kind, i)
            except Exception as e:  # a bug in this driver must show, not stop the soak
                ok, status, detail = False, -1, f"driver: {type(e).__name__}: {e}"
            self.rec.request(begun, kind, i, ok, status, detail)
            k += 1

    def slow_headers(self, s, header_timeout, until):
        """Connections that send half a head and wait: the server must close each within its
        header timeout (and some slack)."""
        k = 0
        while time.time() < until:
            i = (s + k) % len(self.bases)
            host, port = self.bases[i].removeprefix("http://").rsplit(":", 1)
            begun = time.time()
            try:
                with socket.create_connection((host, int(port)), timeout=5) as sock:
                    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: soak\r\nX-Slow: ")
                    sock.settimeout(header_timeout + 10)
                    while sock.recv(4096):
                        pass
                took = time.time() - begun
                ok = took <= header_timeout + 5
                self.rec.request(begun, "slow_headers", i, ok, 0, f"closed after {took:.1f} s")
            except OSError as e:
                self.rec.request(begun, "slow_headers", i, False, 0, f"{type(e).__name__}: {e}")
                time.sleep(1)
            k += 1


def ocsp_status(data):
    try:
        _, s, _ = read_tlv(data, 0)
        tag, es, ee = read_tlv(data, s)
        return data[es] if tag == 0x0A and ee == es + 1 else None
    except IndexError:
        return None


def oversize(host):
    """A /v1/verify body 1 KiB over the limit, sent whole: the answer must be 413. (A body
    announced over the limit and then held back is answered only when the request times out:
    see bench/README.md.)"""
    address, port = host.rsplit(":", 1)
    length = VERIFY_LIMIT + 1024
    head = (
        "POST /v1/verify HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()
    body = b'{"signature":"' + b"A" * (length - 14)
    try:
        with socket.create_connection((address, int(port)), timeout=TIMEOUT) as sock:
            try:
                sock.sendall(head + body)
            except OSError:
                pass  # the server may answer and close before the last bytes: read the answer
            answer = b""
            while b"\r\n" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
        return status, "" if status else "no answer"
    except (OSError, ValueError, IndexError) as e:
        return 0, f"{type(e).__name__}: {e}"


def traffic(run, inputs, bases):
    duration = env_int("SOAK_DURATION", 600)
    rate = float(os.environ.get("SOAK_RATE", "50"))
    workers = env_int("SOAK_WORKERS", 8)
    slow = env_int("SOAK_SLOW_CONNECTIONS", 4)
    header_timeout = env_int("SOAK_HEADER_TIMEOUT", 10)
    t = Traffic(run, inputs, bases)
    until = time.time() + duration
    threads = [threading.Thread(target=t.worker, args=(w, workers, rate, until)) for w in range(workers)]
    threads += [threading.Thread(target=t.slow_headers, args=(s, header_timeout, until)) for s in range(slow)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


# ------------------------------------------------------------------------------------------
# Checks.


def rows(run, name):
    path = os.path.join(run, name)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


class Checks:
    def __init__(self):
        self.failed = []
        self.lines = []

    def check(self, ok, text):
        self.lines.append(("PASS " if ok else "FAIL ") + text)
        if not ok:
            self.failed.append(text)

    def note(self, text):
        self.lines.append("     " + text)


def fault_windows(run, window):
    """[(name, start, end)]: each fault from its start to `window` seconds after recovery."""
    events = {name: float(t) for t, name in rows(run, "events.tsv")}
    out = []
    for name, start, end in (("kill -9 A", "kill_a", "a_ready"), ("PostgreSQL restart", "pg_restart", "pg_ready")):
        if start in events:
            out.append((name, events[start], events.get(end, events[start]) + window))
    return out, events


def check_requests(c, run, windows):
    requests = rows(run, "requests.tsv")
    c.check(len(requests) > 0, f"{len(requests)} requests sent")
    outside, inside = [], {name: [] for name, _, _ in windows}
    latencies = {}
    during = {name: [] for name, _, _ in windows}  # seconds each request in a window took
    for start, end, kind, instance, ok, status, detail in requests:
        start, end = float(start), float(end)
        hit = next((name for name, a, b in windows if start <= b and end >= a), None)
        if hit and kind != "slow_headers":
            during[hit].append(end - start)
        if ok != "1":
            (inside[hit] if hit else outside).append((start, kind, instance, status, detail))
        elif not hit:
            latencies.setdefault(kind, []).append((end - start) * 1000)
    for kind in sorted(latencies):
        ms = latencies[kind]
        c.note(f"{kind:24} {len(ms):6} ok outside faults, p50 {percentile(ms, 50):7.1f} ms, p99 {percentile(ms, 99):7.1f} ms")
    for name, a, b in windows:
        took = during[name]
        c.note(f"{name}: window {b - a:.0f} s, {len(took)} requests in it, {len(inside[name])} failed, "
               f"the slowest took {max(took, default=0):.1f} s")
        for kinds in summarise(inside[name]):
            c.note("    " + kinds)
    c.check(not outside, f"{len(outside)} failed requests outside the fault windows")
    for start, kind, instance, status, detail in outside[:20]:
        c.note(f"    {time.strftime('%H:%M:%S', time.localtime(start))} {kind} on {'AB'[int(instance)]}: {status} {detail}")


def summarise(failures):
    counts = {}
    for _, kind, _, status, detail in failures:
        key = f"{kind} {status} {detail[:60]}"
        counts[key] = counts.get(key, 0) + 1
    return [f"{n:5} × {key}" for key, n in sorted(counts.items(), key=lambda kv: -kv[1])][:8]


NUMBER = re.compile(r"\d{12}-\d{4}-\d{6,}")


def check_documents(c, run, bases):
    acked = rows(run, "acked.tsv")
    stored = {doc_id: (number, bin_, int(year), int(seq)) for doc_id, number, bin_, year, seq in rows(run, "documents.tsv")}
    c.check(len(acked) > 0, f"{len(acked)} documents acknowledged, {len(stored)} stored")
    missing = [(i, n) for _, _, i, n in acked if stored.get(i, (None,))[0] != n]
    c.check(not missing, f"every acknowledged document is stored ({len(missing)} missing: {missing[:5]})")
    audited = set()
    for (text,) in rows(run, "audit.tsv"):
        audited.update(NUMBER.findall(text))
    unaudited = [n for _, _, _, n in acked if n not in audited]
    c.check(not unaudited, f"every acknowledged document has its audit row ({len(unaudited)} without: {unaudited[:5]})")
    # Gap-free: per authority and year, the sequences are 1..n and the counter says n.
    series = {}
    for number, bin_, year, seq in stored.values():
        series.setdefault((bin_, year), []).append(seq)
    counters = {(b, int(y)): int(v) for b, y, v in rows(run, "counters.tsv")}
    for key, seqs in sorted(series.items()):
        seqs.sort()
        gapless = seqs == list(range(1, len(seqs) + 1))
        c.check(gapless and counters.get(key) == len(seqs),
                f"numbers {key[0]}-{key[1]}: {len(seqs)} documents, 1..{seqs[-1]}, counter {counters.get(key)}, gap-free")
    # Read back over HTTP, from both instances.
    clients = Client(bases)
    bad = []
    for k, (_, _, doc_id, number) in enumerate(acked):
        status, _, data = clients.call(k % len(bases), "GET", f"/v1/documents/{doc_id}")
        if status != 200 or number not in data.decode("utf-8", "replace"):
            bad.append((doc_id, status))
    c.check(not bad, f"every acknowledged document reads back over HTTP ({len(bad)} not: {bad[:5]})")


def check_memory(c, run, warm_after, tolerance):
    samples = {}
    for t, name, pid, rss in rows(run, "rss.tsv"):
        samples.setdefault((name, pid), []).append((float(t), int(rss)))
    for (name, pid), points in samples.items():
        first = points[0][0]
        warm = next((rss for t, rss in points if t >= first + warm_after), None)
        last_t, last = points[-1]
        if warm is None or last_t < first + warm_after + 10:
            c.note(f"RSS {name} (pid {pid}): ran {last_t - first:.0f} s, too short to judge")
            continue
        growth = (last - warm) / warm * 100
        c.check(growth <= tolerance,
                f"RSS {name} (pid {pid}): {warm / 1024:.1f} MiB warm ({warm_after:.0f} s in), {last / 1024:.1f} MiB at the end ({growth:+.1f} %, limit +{tolerance:.0f} %)")


def check(run, bases):
    window = env_int("SOAK_FAULT_WINDOW", 15)
    warm_after = float(os.environ.get("SOAK_WARM", "60"))
    tolerance = float(os.environ.get("SOAK_RSS_TOLERANCE", "20"))
    c = Checks()
    windows, events = fault_windows(run, window)
    c.check(len(windows) == 2, f"both faults happened: {sorted(events)}")
    check_requests(c, run, windows)
    check_documents(c, run, bases)
    check_memory(c, run, warm_after, tolerance)
    print("\n".join(c.lines))
    print(f"\nsoak: {'FAILED: ' + str(len(c.failed)) + ' check(s)' if c.failed else 'all checks passed'}")
    return 1 if c.failed else 0


def main(argv):
    if len(argv) == 5 and argv[1] == "many-signers":
        cms = many_signers(open(argv[2], "rb").read(), int(argv[3]))
        json.dump({"signature": base64.b64encode(cms).decode()}, open(argv[4], "w"))
        return 0
    if len(argv) >= 5 and argv[1] == "traffic":
        traffic(argv[2], argv[3], argv[4:])
        return 0
    if len(argv) >= 4 and argv[1] == "check":
        return check(argv[2], argv[3:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
