//! Real NCA RK CRLs, OpenSSL as a peer, and hostile input.

use std::io::Write;
use std::process::{Command, Stdio};

use der::{Decode, DecodePem, Encode};
use x509_cert::Certificate;

use super::test_builder::{header_len, small_crl};
use super::*;

const NCA_RSA_CRL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/nca/rsa/nca_rsa_test.crl"
);
const NCA_RSA_CA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/nca/rsa/nca_rsa_test.crt"
);
const NCA_GOST_CRL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/nca/gost/nca_gost2022_test.crl"
);
const NCA_GOST_CA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/nca/gost/nca_gost2022_test.cer"
);

fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn pem_cert(name: &str) -> Certificate {
    let path = format!("{}/fixtures/nca/rsa/{name}", env!("CARGO_MANIFEST_DIR"));
    Certificate::from_pem(read(&path)).expect("certificate PEM")
}

/// `2022-01-18T04:40:24Z` to unix seconds.
pub(super) fn unix(rfc3339: &str) -> i64 {
    let n = |range: std::ops::Range<usize>| -> u8 {
        rfc3339[range].parse::<u16>().expect("digits") as u8
    };
    let year: u16 = rfc3339[0..4].parse().expect("year");
    der::DateTime::new(year, n(5..7), n(8..10), n(11..13), n(14..16), n(17..19))
        .expect("date")
        .unix_duration()
        .as_secs() as i64
}

/// (serial as OpenSSL prints it, revocation date, reason) for every entry of a parsed CRL, sorted.
pub(super) fn our_entries(crl: &Crl) -> Vec<(String, i64, Option<u8>)> {
    let mut entries: Vec<_> = crl
        .index
        .records()
        .map(|r| {
            let serial = r.serial(&crl.tbs).expect("serial in TBS");
            let magnitude = match serial {
                [0, rest @ ..] if !rest.is_empty() => rest,
                s => s,
            };
            let entry = crl.lookup(serial).expect("every listed serial is found");
            (hex::encode_upper(magnitude), entry.revoked_at, entry.reason)
        })
        .collect();
    entries.sort();
    entries
}

fn openssl_reason(text: &str) -> u8 {
    match text {
        "Unspecified" => 0,
        "Key Compromise" => 1,
        "CA Compromise" => 2,
        "Affiliation Changed" => 3,
        "Superseded" => 4,
        "Cessation Of Operation" => 5,
        "Certificate Hold" => 6,
        "Remove From CRL" => 8,
        "Privilege Withdrawn" => 9,
        "AA Compromise" => 10,
        other => panic!("OpenSSL reason {other:?}"),
    }
}

/// `Apr  1 06:56:52 2021 GMT` to unix seconds.
fn openssl_date(text: &str) -> i64 {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == parts[0])
    .expect("month") as u8
        + 1;
    let hms: Vec<u8> = parts[2]
        .split(':')
        .map(|p| p.parse().expect("time"))
        .collect();
    der::DateTime::new(
        parts[3].parse().expect("year"),
        month,
        parts[1].parse().expect("day"),
        hms[0],
        hms[1],
        hms[2],
    )
    .expect("date")
    .unix_duration()
    .as_secs() as i64
}

/// The entries `openssl crl -inform DER -noout -text` prints, sorted.
pub(super) fn openssl_entries(der: &[u8]) -> Vec<(String, i64, Option<u8>)> {
    let mut child = Command::new("openssl")
        .args(["crl", "-inform", "DER", "-noout", "-text"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the openssl CLI is on PATH");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(der)
        .expect("write to openssl");
    let out = child.wait_with_output().expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl crl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let mut entries: Vec<(String, i64, Option<u8>)> = Vec::new();
    let mut lines = text
        .lines()
        .skip_while(|l| !l.starts_with("Revoked Certificates:"))
        .take_while(|l| !l.trim_start().starts_with("Signature Algorithm:"));
    while let Some(line) = lines.next() {
        let line = line.trim();
        if let Some(serial) = line.strip_prefix("Serial Number: ") {
            entries.push((serial.to_string(), 0, None));
        } else if let Some(date) = line.strip_prefix("Revocation Date: ") {
            entries.last_mut().expect("entry").1 = openssl_date(date);
        } else if line == "X509v3 CRL Reason Code:" {
            let reason = openssl_reason(lines.next().expect("reason").trim());
            entries.last_mut().expect("entry").2 = Some(reason);
        }
    }
    entries.sort();
    entries
}

#[test]
fn nca_rsa_crl_parses_verifies_and_finds_the_revoked_certificates() {
    let crl = Crl::parse(&read(NCA_RSA_CRL)).expect("parse");
    assert_eq!(crl.len(), 126);
    assert!(!crl.is_empty());
    assert_eq!(crl.version(), 2);
    assert_eq!(crl.this_update(), unix("2022-03-29T04:18:29Z"));
    assert_eq!(crl.next_update(), Some(unix("2022-09-25T04:18:29Z")));
    assert_eq!(crl.number(), Some(9));
    assert!(!crl.is_delta());
    assert_eq!(crl.delta_base(), None);
    assert_eq!(
        crl.authority_key_id().map(hex::encode_upper).as_deref(),
        Some("A68C16337CB8E83567063E5E415755A2AF345068")
    );
    assert!(crl.freshest_crl_urls().is_empty());
    assert!(crl.scope().is_none());

    let ca = Certificate::from_pem(read(NCA_RSA_CA)).expect("CA");
    assert_eq!(
        crl.issuer_der(),
        ca.tbs_certificate.subject.to_der().expect("der")
    );
    assert_eq!(crl.issuer(), &ca.tbs_certificate.subject);
    crl.verify_signature(&ca.tbs_certificate.subject_public_key_info)
        .expect("NCA's signature verifies");

    let sign_revoked = pem_cert("individual_sign_revoked.pem");
    assert_eq!(
        crl.issuer_der(),
        sign_revoked.tbs_certificate.issuer.to_der().expect("der")
    );
    assert_eq!(
        crl.lookup(sign_revoked.tbs_certificate.serial_number.as_bytes()),
        Some(RevokedEntry {
            revoked_at: unix("2022-01-18T04:40:24Z"),
            reason: Some(4)
        })
    );
    let auth_revoked = pem_cert("individual_auth_revoked.pem");
    let entry = crl
        .lookup(auth_revoked.tbs_certificate.serial_number.as_bytes())
        .expect("AUTH certificate revoked");
    assert_eq!(entry.revoked_at, unix("2022-01-18T04:41:12Z"));
    let valid = pem_cert("individual_valid_sign.pem");
    assert_eq!(
        crl.lookup(valid.tbs_certificate.serial_number.as_bytes()),
        None
    );
    assert_eq!(
        status(&crl, None, valid.tbs_certificate.serial_number.as_bytes()).expect("status"),
        None
    );

    // The first entries as `openssl crl -text` prints them.
    let hold = hex::decode("474C38696D8677A2C8B6E40345A8B04168C0905C").expect("hex");
    assert_eq!(
        crl.lookup(&hold),
        Some(RevokedEntry {
            revoked_at: unix("2021-04-01T06:56:52Z"),
            reason: Some(REASON_CERTIFICATE_HOLD)
        })
    );
    let no_reason = hex::decode("1F6DE34F4F4BB353DD57EF15E4E6DDB8363F6D00").expect("hex");
    assert_eq!(
        crl.lookup(&no_reason),
        Some(RevokedEntry {
            revoked_at: unix("2021-05-31T05:45:26Z"),
            reason: None
        })
    );
    let key_compromise = hex::decode("4B779CB5647C4DA7B07327C503EAB1656D716ED8").expect("hex");
    assert_eq!(crl.lookup(&key_compromise).and_then(|e| e.reason), Some(1));
}

#[test]
fn nca_rsa_crl_agrees_with_openssl_entry_by_entry() {
    let der = read(NCA_RSA_CRL);
    let crl = Crl::parse(&der).expect("parse");
    let ours = our_entries(&crl);
    assert_eq!(ours.len(), 126);
    assert_eq!(ours, openssl_entries(&der));
}

#[test]
fn nca_gost_crl_parses_and_its_gost_signature_verifies() {
    let der = read(NCA_GOST_CRL);
    let crl = Crl::parse(&der).expect("parse");
    assert_eq!(crl.len(), 195);
    assert_eq!(crl.number(), Some(166));
    assert_eq!(crl.this_update(), unix("2026-08-11T03:49:19Z"));
    assert_eq!(crl.next_update(), Some(unix("2027-02-07T03:49:19Z")));
    assert_eq!(
        crl.authority_key_id().map(hex::encode_upper).as_deref(),
        Some("FAD24B1BA3A0C961FE1CA8503E6AA2BB450DB8A3")
    );
    assert_eq!(our_entries(&crl), openssl_entries(&der));
    let first = hex::decode("11878BBB2D0C22C0BB736D57935C80D54BE605FF").expect("hex");
    assert_eq!(
        crl.lookup(&first),
        Some(RevokedEntry {
            revoked_at: unix("2026-05-06T16:34:41Z"),
            reason: Some(3)
        })
    );

    let ca = Certificate::from_der(&read(NCA_GOST_CA)).expect("GOST CA certificate");
    assert_eq!(
        crl.issuer_der(),
        ca.tbs_certificate.subject.to_der().expect("der")
    );
    // GOST R 34.10-2012 is a row of the algorithm table: the CRL's own signature verifies,
    // and a changed byte of what it signs does not.
    crl.verify_signature(&ca.tbs_certificate.subject_public_key_info)
        .expect("the GOST CRL's signature verifies");
    let mut tampered = der.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 0x01;
    if let Ok(changed) = Crl::parse(&tampered) {
        assert!(matches!(
            changed.verify_signature(&ca.tbs_certificate.subject_public_key_info),
            Err(CrlError::BadSignature(_))
        ));
    }
}

#[test]
fn the_wrong_issuer_key_does_not_verify_the_nca_crl() {
    let crl = Crl::parse(&read(NCA_RSA_CRL)).expect("parse");
    let other = pem_cert("individual_valid_sign.pem");
    assert!(matches!(
        crl.verify_signature(&other.tbs_certificate.subject_public_key_info),
        Err(CrlError::BadSignature(_))
    ));
}

#[test]
fn pem_input_is_accepted_with_or_without_text_around_it() {
    let der = read(NCA_RSA_CRL);
    let pem = der::pem::encode_string("X509 CRL", der::pem::LineEnding::LF, &der).expect("pem");
    let crl = Crl::parse(pem.as_bytes()).expect("PEM");
    assert_eq!(crl.len(), 126);
    assert_eq!(crl.number(), Some(9));
    let ca = Certificate::from_pem(read(NCA_RSA_CA)).expect("CA");
    crl.verify_signature(&ca.tbs_certificate.subject_public_key_info)
        .expect("verifies");

    let wrapped = format!("issuer: NCA RSA test\r\n{}\n\n", pem.replace('\n', "\r\n"));
    assert_eq!(
        Crl::parse(wrapped.as_bytes()).expect("wrapped PEM").len(),
        126
    );

    let cert_pem =
        der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &der).expect("pem");
    assert!(matches!(
        Crl::parse(cert_pem.as_bytes()),
        Err(CrlError::Malformed(_))
    ));
    let broken = pem.replace("MII", "M!I");
    assert!(matches!(
        Crl::parse(broken.as_bytes()),
        Err(CrlError::Malformed(_))
    ));
}

#[test]
fn every_prefix_of_a_crl_is_refused_without_panic() {
    for der in [small_crl(), read(NCA_RSA_CRL)] {
        for len in 0..der.len() {
            assert!(
                matches!(Crl::parse(&der[..len]), Err(CrlError::Malformed(_))),
                "prefix of {len} bytes accepted"
            );
        }
        Crl::parse(&der).expect("the whole CRL parses");
    }
}

#[test]
fn corrupted_bytes_never_panic() {
    let der = small_crl();
    for i in 0..der.len() {
        for mask in [0x01u8, 0x80, 0xFF] {
            let mut bad = der.clone();
            bad[i] ^= mask;
            if let Ok(crl) = Crl::parse(&bad) {
                // Whatever parsed must still answer lookups without panicking.
                let _ = crl.lookup(&[1, 2, 3]);
                let _ = status(&crl, None, &[0x0A]);
            }
        }
    }
    // Pseudo-random garbage, DER-looking and not.
    let mut x = 0x2545F4914F6CDD1Du64;
    for len in [0usize, 1, 2, 3, 16, 100, 1000] {
        for first in [0x30u8, 0x2D, 0xA0] {
            let mut garbage = vec![first];
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                garbage.push(x as u8);
            }
            assert!(Crl::parse(&garbage).is_err());
        }
    }
}

#[test]
fn ber_indefinite_length_and_trailing_data_are_refused() {
    let der = small_crl();
    // Outer SEQUENCE re-encoded with an indefinite length.
    let header = header_len(&der);
    let mut ber = vec![0x30, 0x80];
    ber.extend_from_slice(&der[header..]);
    ber.extend_from_slice(&[0, 0]);
    match Crl::parse(&ber) {
        Err(CrlError::Malformed(message)) => assert!(message.contains("indefinite"), "{message}"),
        other => panic!("indefinite length accepted: {other:?}"),
    }
    let mut trailing = der.clone();
    trailing.push(0);
    assert!(matches!(Crl::parse(&trailing), Err(CrlError::Malformed(_))));
    // A length beyond the input, and beyond der's limit.
    for claim in [
        &[0x30, 0x84, 0x7F, 0xFF, 0xFF, 0xFF][..],
        &[0x30, 0x82, 0xFF, 0xFF],
    ] {
        assert!(matches!(Crl::parse(claim), Err(CrlError::Malformed(_))));
    }
}

#[test]
fn input_over_256_mib_is_refused_as_too_large() {
    // Zeroed allocation: the pages are never touched.
    let huge = vec![0u8; MAX_CRL_BYTES + 1];
    assert!(matches!(
        Crl::parse(&huge),
        Err(CrlError::TooLarge(n)) if n == MAX_CRL_BYTES + 1
    ));
}

#[test]
fn a_crl_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Crl>();
    shareable::<CrlError>();
}
