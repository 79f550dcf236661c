//! Past signature validation (ETSI EN 319 102-1 §5.6.2.4, issue 15): a signature whose
//! time-stamp proves it existed at T is judged at T — its certificate may have expired or been
//! revoked since — with revocation evidence that speaks for T. The PKI, the TSA and the tokens
//! are OpenSSL's (an independent peer); the verifier is ours.

use std::path::Path;

use cms::content_info::ContentInfo;
use cms::revocation::{RevocationInfoChoice, RevocationInfoChoices};
use der::asn1::SetOfVec;
use der::{Any, Decode, Encode};
use qoltanba::verify::{Report, Request, Settings, Status, Verdict, Verifier};
use x509_cert::crl::CertificateList;

use crate::openssl_pki::{LeafSpec, OpensslPki, SignOpts};
use crate::verify_openssl::{check, current_crls, json};
use crate::verify_timestamp::{
    openssl_token, read, sha256, signature_value, signed_data, tsa, tsa_for_days, with_timestamp,
};

fn verifier(pki: &OpensslPki, crls: &[&Path]) -> Verifier {
    Verifier::new(Settings {
        anchors: vec![("root.der".into(), read(&pki.root_der()))],
        intermediates: vec![("issuing.der".into(), read(&pki.issuing_der()))],
        crls: (crls.iter())
            .map(|p| (p.display().to_string(), read(p)))
            .collect(),
        offline: true,
        ..Settings::default()
    })
    .expect("verifier")
}

async fn verify(verifier: &Verifier, signature: Vec<u8>, at: i64) -> Report {
    verifier
        .verify(&Request {
            signature,
            at: Some(at),
            ..Request::default()
        })
        .await
}

fn generalized(unix: i64) -> String {
    let t = der::DateTime::from_unix_duration(std::time::Duration::from_secs(unix as u64))
        .expect("time");
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minutes(),
        t.seconds()
    )
}

/// The CMS with these CRLs in SignedData.crls (CAdES-LT revocation values).
fn with_crls(cms_der: &[u8], crls: &[&Path]) -> Vec<u8> {
    let mut sd = signed_data(cms_der);
    let choices: Vec<RevocationInfoChoice> = (crls.iter())
        .map(|p| {
            let der = qoltanba::x509::decode_der(&read(p)).expect("CRL DER");
            RevocationInfoChoice::Crl(CertificateList::from_der(&der).expect("CRL"))
        })
        .collect();
    sd.crls = Some(RevocationInfoChoices(
        SetOfVec::try_from(choices).expect("set"),
    ));
    content_info(&sd)
}

fn content_info(sd: &cms::signed_data::SignedData) -> Vec<u8> {
    ContentInfo {
        content_type: const_oid::db::rfc5911::ID_SIGNED_DATA,
        content: Any::encode_from(sd).expect("SignedData"),
    }
    .to_der()
    .expect("ContentInfo")
}

const DAY: i64 = 86_400;

/// An OpenSSL PKI, the time, and a CMS by a leaf of it that expires a day from now.
fn signed_by_a_leaf_expiring_tomorrow() -> (OpensslPki, i64, Vec<u8>) {
    let pki = OpensslPki::new(None, None);
    let now = qoltanba::time::now();
    let leaf = pki.leaf(&LeafSpec {
        end: Some(generalized(now + DAY)),
        ..LeafSpec::new("short")
    });
    let content = json(&crate::common::valid_iin());
    let cms = read(&pki.sign(&leaf, &content, &SignOpts::default()));
    (pki, now, cms)
}

/// A signer whose certificate expires tomorrow, time-stamped today, verified in three days:
/// valid at its proof of existence, with the CRLs configured or carried in the signature alone;
/// EXPIRED when the token stamps other bytes (no proof); EXPIRED again after the TSA's own
/// certificate has expired (the token is no longer relied on without an archive time-stamp).
#[tokio::test]
async fn an_expired_signer_is_valid_at_its_proof_of_existence_and_only_there() {
    let (pki, now, cms) = signed_by_a_leaf_expiring_tomorrow();
    let tsa = tsa(&pki, "tsa", "critical, timeStamping", false, None);
    let token = openssl_token(&pki, &tsa, &sha256(&signature_value(&cms)), 1, true);
    let stamped = with_timestamp(&cms, &token);
    let (issuing_crl, root_crl) = current_crls(&pki);
    let configured = verifier(&pki, &[&issuing_crl, &root_crl]);
    let later = now + 3 * DAY;

    // Without the time-stamp: expired.
    let report = verify(&configured, cms.clone(), later).await;
    assert_eq!(report.sub_indication, Some("EXPIRED"), "{report:#?}");

    let report = verify(&configured, stamped.clone(), later).await;
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    let signer = &report.signers[0];
    let poe = signer
        .proof_of_existence
        .clone()
        .expect("proof of existence");
    assert!(
        check(&report, "validity")
            .detail
            .contains(&format!("validated at the proof of existence {poe}")),
        "{report:#?}"
    );
    assert_eq!(report.validation_time, qoltanba::time::rfc3339(later));

    // The same from the evidence the signature carries: no CRL configured at all.
    let bare = verifier(&pki, &[]);
    // Nothing says the TSA was not revoked: the token proves nothing, the signer expired.
    let report = verify(&bare, stamped.clone(), later).await;
    assert_eq!(report.sub_indication, Some("EXPIRED"), "{report:#?}");
    assert_eq!(check(&report, "timestamp").code, "NO_REVOCATION_INFO");
    let carried = with_crls(&stamped, &[&issuing_crl, &root_crl]);
    let report = verify(&bare, carried, later).await;
    assert_eq!(report.verdict, Verdict::Valid, "carried CRLs: {report:#?}");

    // A token over other bytes proves nothing: judged at the validation time, expired.
    let other = openssl_token(&pki, &tsa, &sha256(b"other bytes"), 2, true);
    let report = verify(&configured, with_timestamp(&cms, &other), later).await;
    assert_eq!(report.sub_indication, Some("EXPIRED"), "{report:#?}");
    assert_eq!(report.signers[0].proof_of_existence, None);
    assert_eq!(check(&report, "timestamp").code, "IMPRINT_MISMATCH");

    // Past the TSA certificate's 30 days, nothing proves the token existed before then.
    let report = verify(&configured, stamped, now + 40 * DAY).await;
    assert_eq!(report.sub_indication, Some("EXPIRED"), "{report:#?}");
    assert_eq!(
        check(&report, "timestamp").code,
        "TIMESTAMP_OUT_OF_BOUNDS_NO_POE",
        "{report:#?}"
    );
}

/// Revoked after the time-stamp: valid, the revocation reported; revoked before: REVOKED.
#[tokio::test]
async fn revocation_counts_only_before_the_proof_of_existence() {
    let pki = OpensslPki::new(None, None);
    let content = json(&crate::common::valid_iin());
    let tsa = tsa(&pki, "tsa", "critical, timeStamping", false, None);

    let after = pki.leaf(&LeafSpec::new("after"));
    let cms = read(&pki.sign(&after, &content, &SignOpts::default()));
    let token = openssl_token(&pki, &tsa, &sha256(&signature_value(&cms)), 1, true);
    let stamped_then_revoked = with_timestamp(&cms, &token);
    // Revocation times are whole seconds: make sure it is after genTime.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    pki.revoke(&after, "keyCompromise");

    let before = pki.leaf(&LeafSpec::new("before"));
    pki.revoke(&before, "keyCompromise");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let cms_before = read(&pki.sign(&before, &content, &SignOpts::default()));
    let token = openssl_token(&pki, &tsa, &sha256(&signature_value(&cms_before)), 2, true);
    let revoked_then_stamped = with_timestamp(&cms_before, &token);

    let (issuing_crl, root_crl) = current_crls(&pki);
    let v = verifier(&pki, &[&issuing_crl, &root_crl]);
    let now = qoltanba::time::now() + 5;

    let report = verify(&v, cms, now).await;
    assert_eq!(
        report.sub_indication,
        Some("REVOKED"),
        "no time-stamp: {report:#?}"
    );

    let report = verify(&v, stamped_then_revoked, now).await;
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    let revocation = check(&report, "revocation");
    assert_eq!(revocation.status, Status::Passed);
    assert!(
        revocation.detail.contains("revoked only later")
            && revocation.detail.contains("after the proof of existence"),
        "{revocation:?}"
    );

    let report = verify(&v, revoked_then_stamped, now).await;
    assert_eq!(report.verdict, Verdict::Invalid, "{report:#?}");
    assert_eq!(report.sub_indication, Some("REVOKED"));
    assert!(report.signers[0].proof_of_existence.is_some());
}

/// The signature time-stamp's TSA certificate (30 days) has expired at the validation time
/// (45 days on); an archive time-stamp by a TSA whose certificate still holds (60 days), made
/// while the first was valid, proves the first token existed then: the signer (expired after
/// a day) is valid at its proof of existence. Without the archive time-stamp it is not; with an
/// element its ats-hash-index-v3 lists removed, the archive time-stamp fails and neither holds.
#[tokio::test]
async fn an_archive_time_stamp_keeps_an_expired_tsas_token_relied_on() {
    use qoltanba::sign::levels;
    let (pki, now, cms) = signed_by_a_leaf_expiring_tomorrow();
    let first = tsa(&pki, "tsa1", "critical, timeStamping", false, None);
    let token = openssl_token(&pki, &first, &sha256(&signature_value(&cms)), 1, true);
    let (issuing_crl, root_crl) = current_crls(&pki);
    // B-LT as a signer would make it: the CRLs carried, then the archive time-stamp.
    let lt = with_crls(&with_timestamp(&cms, &token), &[&issuing_crl, &root_crl]);
    let second = tsa_for_days(&pki, "tsa2", "critical, timeStamping", false, None, "60");
    let digest = qoltanba::crypto::Digest::Sha256;
    let (data, index) = levels::archive_time_stamp_data(&lt, None, digest).expect("ATS data");
    let archive = openssl_token(&pki, &second, &sha256(&data), 2, true);
    let lta = levels::with_archive_time_stamp(&lt, &archive, &index).expect("LTA");
    let v = verifier(&pki, &[]);
    let later = now + 45 * DAY;

    let report = verify(&v, lta.clone(), later).await;
    assert_eq!(report.verdict, Verdict::Valid, "{report:#?}");
    let kinds: Vec<(&str, Status)> = (report.signers[0].timestamps.iter())
        .map(|t| (t.kind, t.status))
        .collect();
    assert_eq!(
        kinds,
        [("signature", Status::Passed), ("archive", Status::Passed)]
    );

    let report = verify(&v, lt, later).await;
    assert_eq!(report.sub_indication, Some("EXPIRED"), "{report:#?}");
    assert_eq!(
        check(&report, "timestamp").code,
        "TIMESTAMP_OUT_OF_BOUNDS_NO_POE"
    );

    // The carried CRLs are listed in the index: one gone, the archive time-stamp proves
    // nothing, and the first token is again past its TSA's horizon.
    let mut sd = signed_data(&lta);
    sd.crls = None;
    let stripped = content_info(&sd);
    let report = verify(&verifier(&pki, &[&issuing_crl, &root_crl]), stripped, later).await;
    assert_eq!(report.sub_indication, Some("EXPIRED"), "{report:#?}");
    let archive = &report.signers[0].timestamps[1];
    assert_eq!(archive.kind, "archive");
    assert!(
        archive.detail.contains("crlsHashIndex"),
        "the removed CRL is named: {archive:?}"
    );
}
