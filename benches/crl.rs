//! CRL parse/index/lookup benchmark: `cargo bench --bench crl` (release profile).
//!
//! Builds RSA-2048-signed CRLs of 100,000 and 1,000,000 entries in memory (random 16–20-byte
//! serials, reasons mixed, a third without reasonCode), then prints the DER size, parse + index
//! time (best of 3; goal < 1 s for 1,000,000), resident memory before and after parsing,
//! signature verification time, and lookups per second for hits and misses.

use std::hint::black_box;
use std::time::{Duration, Instant};

use qoltanba::crypto::{KeyAlgorithm, SigningKey};
use qoltanba::x509::crl::{self, Crl};

/// splitmix64, seeded from the OS: fast and good enough to make serials.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A DER TLV with a definite length.
fn tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
}

fn wrap(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    tlv(&mut out, tag, content);
    out
}

/// UTCTime `YYMMDDHHMMSSZ` for a unix time between 1970 and 2049.
fn utc_time(unix: i64) -> Vec<u8> {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let text = format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}Z",
        year % 100,
        month,
        day,
        secs / 3_600,
        secs / 60 % 60,
        secs % 60
    );
    wrap(0x17, text.as_bytes())
}

const SHA256_WITH_RSA: [u8; 15] = [
    0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B, 0x05, 0x00,
];
const THIS_UPDATE: i64 = 1_750_000_000; // 2025-06-15

/// The CRL and the serials it lists (flat: `serials[ends[i-1]..ends[i]]`).
struct Generated {
    der: Vec<u8>,
    serials: Vec<u8>,
    ends: Vec<usize>,
}

fn random_serial(rng: &mut Rng, out: &mut Vec<u8>) {
    let len = 16 + rng.below(5) as usize;
    let start = out.len();
    for _ in 0..len {
        out.push(rng.next() as u8);
    }
    if out[start] == 0 {
        out[start] = 1;
    }
    if out[start] >= 0x80 {
        out.insert(start, 0x00); // positive INTEGER: as a certificate's serial carries it
    }
}

fn generate(key: &SigningKey, entries: usize, rng: &mut Rng) -> Generated {
    let mut serials = Vec::with_capacity(entries * 20);
    let mut ends = Vec::with_capacity(entries);
    let mut list = Vec::with_capacity(entries * 56);
    let mut entry = Vec::with_capacity(64);
    let reasons = [0u8, 1, 3, 4, 4, 5, 6, 9];
    for _ in 0..entries {
        let start = serials.len();
        random_serial(rng, &mut serials);
        ends.push(serials.len());
        entry.clear();
        tlv(&mut entry, 0x02, &serials[start..]);
        let revoked_at = THIS_UPDATE - rng.below(3 * 365 * 86_400) as i64;
        entry.extend_from_slice(&utc_time(revoked_at));
        if rng.below(3) != 0 {
            let reason = reasons[rng.below(reasons.len() as u64) as usize];
            // SEQUENCE { SEQUENCE { OID 2.5.29.21, OCTET STRING { ENUMERATED reason } } }
            let mut ext = wrap(0x06, &[0x55, 0x1D, 0x15]);
            tlv(&mut ext, 0x04, &[0x0A, 0x01, reason]);
            entry.extend_from_slice(&wrap(0x30, &wrap(0x30, &ext)));
        }
        tlv(&mut list, 0x30, &entry);
    }

    let mut name = wrap(0x06, &[0x55, 0x04, 0x03]); // commonName
    tlv(&mut name, 0x0C, "ҚОЛТАҢБА BENCH CA".as_bytes());
    let issuer = wrap(0x30, &wrap(0x31, &wrap(0x30, &name)));
    let mut number = wrap(0x06, &[0x55, 0x1D, 0x14]); // cRLNumber
    tlv(&mut number, 0x04, &[0x02, 0x01, 0x2A]);
    let extensions = wrap(0xA0, &wrap(0x30, &wrap(0x30, &number)));

    let mut tbs_content = Vec::with_capacity(list.len() + 256);
    tlv(&mut tbs_content, 0x02, &[0x01]); // v2
    tbs_content.extend_from_slice(&SHA256_WITH_RSA);
    tbs_content.extend_from_slice(&issuer);
    tbs_content.extend_from_slice(&utc_time(THIS_UPDATE));
    tbs_content.extend_from_slice(&utc_time(THIS_UPDATE + 7 * 86_400));
    tlv(&mut tbs_content, 0x30, &list);
    drop(list);
    tbs_content.extend_from_slice(&extensions);
    let tbs = wrap(0x30, &tbs_content);
    drop(tbs_content);

    let signature = key.sign(&tbs).expect("sign");
    let mut bits = vec![0u8];
    bits.extend_from_slice(&signature);
    let mut body = tbs;
    body.extend_from_slice(&SHA256_WITH_RSA);
    tlv(&mut body, 0x03, &bits);
    Generated {
        der: wrap(0x30, &body),
        serials,
        ends,
    }
}

/// Resident set size in bytes (VmRSS), or 0 where /proc is missing.
fn rss() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<usize>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn run(key: &SigningKey, n: usize, rng: &mut Rng) {
    let label = format!("crl {n} entries:");
    let started = Instant::now();
    let generated = generate(key, n, rng);
    println!(
        "{label} built and signed in {:.2} s; DER {:.1} MB ({:.1} B/entry)",
        secs(started.elapsed()),
        mb(generated.der.len()),
        generated.der.len() as f64 / n as f64
    );

    let before = rss();
    let started = Instant::now();
    let crl = Crl::parse(&generated.der).expect("parse");
    let mut best = started.elapsed();
    let after = rss();
    assert_eq!(crl.len(), n);
    for _ in 0..2 {
        let started = Instant::now();
        let again = Crl::parse(black_box(&generated.der)).expect("parse");
        best = best.min(started.elapsed());
        drop(black_box(again));
    }
    let goal = if n >= 1_000_000 { " (goal < 1 s)" } else { "" };
    println!(
        "{label} parse+index {:.3} s best of 3{goal}, {:.2} M entries/s",
        secs(best),
        n as f64 / secs(best) / 1e6
    );
    println!(
        "{label} memory: RSS {:.1} MB before parsing, {:.1} MB after (+{:.1} MB); the Crl holds \
         {:.1} MB on the heap = {:.1} B/entry (of which the kept TBS {:.1} B/entry)",
        mb(before),
        mb(after),
        mb(after.saturating_sub(before)),
        mb(crl.heap_size()),
        crl.heap_size() as f64 / n as f64,
        generated.der.len() as f64 / n as f64
    );

    let spki = key.public_key_info().expect("spki");
    let started = Instant::now();
    crl.verify_signature(&spki).expect("signature verifies");
    println!(
        "{label} verify_signature {:.3} s (RSA-2048, SHA-256 over {:.1} MB)",
        secs(started.elapsed()),
        mb(generated.der.len())
    );

    // Hits, in an order unrelated to the CRL's, laid out contiguously so that the loop measures
    // the lookups' memory accesses rather than its own.
    let mut order: Vec<u32> = (0..n as u32).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let serial = |i: usize| {
        let start = if i == 0 { 0 } else { generated.ends[i - 1] };
        &generated.serials[start..generated.ends[i]]
    };
    let mut hit_serials = Vec::with_capacity(generated.serials.len());
    let mut hit_ends = Vec::with_capacity(n);
    for &i in &order {
        hit_serials.extend_from_slice(serial(i as usize));
        hit_ends.push(hit_serials.len());
    }
    let started = Instant::now();
    let mut start = 0;
    let mut found = 0usize;
    for &end in &hit_ends {
        found += usize::from(crl.lookup(black_box(&hit_serials[start..end])).is_some());
        start = end;
    }
    let hits = started.elapsed();
    assert_eq!(found, n, "every listed serial is found");

    let mut misses_serials = Vec::with_capacity(n * 20);
    let mut miss_ends = Vec::with_capacity(n);
    for _ in 0..n {
        random_serial(rng, &mut misses_serials);
        miss_ends.push(misses_serials.len());
    }
    let started = Instant::now();
    let mut start = 0;
    let mut found_missing = 0usize;
    for &end in &miss_ends {
        found_missing += usize::from(crl.lookup(black_box(&misses_serials[start..end])).is_some());
        start = end;
    }
    let misses = started.elapsed();
    let started = Instant::now();
    let mut revoked = 0usize;
    let mut start = 0;
    for &end in hit_ends.iter().take(200_000) {
        let serial = black_box(&hit_serials[start..end]);
        revoked += usize::from(matches!(crl::status(&crl, None, serial), Ok(Some(_))));
        start = end;
    }
    let status_time = started.elapsed();
    println!(
        "{label} lookup hits {:.1} M/s ({:.0} ns each), misses {:.1} M/s ({:.0} ns each; {} false \
         hits), status() {:.1} M/s",
        n as f64 / secs(hits) / 1e6,
        secs(hits) * 1e9 / n as f64,
        n as f64 / secs(misses) / 1e6,
        secs(misses) * 1e9 / n as f64,
        found_missing,
        revoked as f64 / secs(status_time) / 1e6
    );
}

fn main() {
    let seed = qoltanba::crypto::random_bytes::<8>().expect("random");
    let mut rng = Rng(u64::from_le_bytes(seed));
    let started = Instant::now();
    let key = SigningKey::generate(KeyAlgorithm::Rsa2048).expect("RSA key");
    println!("RSA-2048 key generated in {:.2} s", secs(started.elapsed()));
    for n in [100_000, 1_000_000] {
        run(&key, n, &mut rng);
    }
}
