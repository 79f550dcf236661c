//! Rules of the PKI that a caller can run into.

use qoltanba::pki::{PkiError, RevocationReason};

use crate::common::*;

#[tokio::test]
async fn the_responders_own_certificate_cannot_be_revoked_while_in_use() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let responder = t
        .pki
        .list(100, 0)
        .await
        .expect("list")
        .into_iter()
        .find(|r| r.profile == "ocsp-responder")
        .expect("the responder certificate is listed");
    match t
        .pki
        .revoke(&responder.serial, "keyCompromise".parse().expect("r"), None)
        .await
    {
        Err(PkiError::Conflict(m)) => assert!(m.contains("OCSP responder"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let after = t
        .pki
        .certificate(&responder.serial)
        .await
        .expect("still there");
    assert_eq!(after.status, qoltanba::store::CertificateStatus::Good);
}

#[tokio::test]
async fn remove_from_crl_is_neither_accepted_nor_offered_as_a_revocation_reason() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let serial = t.issue(individual("individual-sign")).await.record.serial;
    let reason: RevocationReason = "removeFromCRL".parse().expect("a known CRL reason");
    assert!(matches!(
        t.pki.revoke(&serial, reason, None).await,
        Err(PkiError::InvalidRequest(_))
    ));
    let err = "stolen".parse::<RevocationReason>().expect_err("unknown");
    assert!(err.to_string().contains("keyCompromise"), "{err}");
    assert!(!err.to_string().contains("removeFromCRL"), "{err}");
}

#[tokio::test]
async fn a_refused_test_number_names_the_flag_that_would_accept_it() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    // Right check digit, impossible structure (month 13): the flag accepts it, so say so.
    let iin = {
        let first: Vec<u8> = "90131731234".bytes().map(|b| b - b'0').collect();
        let first: [u8; 11] = first.try_into().expect("11 digits");
        let check = qoltanba::identity::check_digit(&first).expect("has a check digit");
        format!("90131731234{check}")
    };
    let mut request = individual("individual-sign");
    request.iin = Some(iin.clone());
    let err = t.pki.issue(&request, None).await.err().expect("refused");
    assert!(
        err.to_string().contains("allow_invalid_check_digit"),
        "{err}"
    );
    request.allow_invalid_check_digit = true;
    let issued = t
        .pki
        .issue(&request, None)
        .await
        .expect("accepted with the flag");
    assert_eq!(issued.record.iin.as_deref(), Some(iin.as_str()));
    // A malformed number is not something the flag accepts: no hint.
    request.iin = Some("12345".into());
    request.allow_invalid_check_digit = false;
    let err = t.pki.issue(&request, None).await.err().expect("refused");
    assert!(
        !err.to_string().contains("allow_invalid_check_digit"),
        "{err}"
    );
}

#[tokio::test]
async fn crls_are_republished_before_they_expire_and_not_before() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let issuing = t.pki.issuing().id.clone();
    let read = |der: Vec<u8>| {
        let list = <x509_cert::crl::CertificateList as der::Decode>::from_der(&der).expect("crl");
        let number = list
            .tbs_cert_list
            .crl_extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id.to_string() == "2.5.29.20")
            .map(|e| e.extn_value.as_bytes().to_vec())
            .expect("CRL number");
        (
            qoltanba::pki::certificate::unix(&list.tbs_cert_list.this_update),
            number,
        )
    };
    // The PKI was created (and its first CRLs cut) at the issuing CA's notBefore.
    let ca = <x509_cert::Certificate as der::Decode>::from_der(t.pki.ca_chain()[0]).expect("ca");
    let now = qoltanba::pki::certificate::unix(&ca.tbs_certificate.validity.not_before);
    let (first_update, first_number) = read(t.pki.crl(&issuing, false).await.expect("crl"));
    // An hour later nothing is due: the full CRL lasts 7 days, the delta 1 day.
    assert_eq!(t.pki.refresh_crls(now + 3600).await.expect("refresh"), 0);
    assert_eq!(
        read(t.pki.crl(&issuing, false).await.expect("crl")).1,
        first_number
    );
    // 20 hours later the delta (24 h) is within a quarter of its period: only it is re-cut.
    assert_eq!(
        t.pki.refresh_crls(now + 20 * 3600).await.expect("refresh"),
        1
    );
    let (delta_update, _) = read(t.pki.crl(&issuing, true).await.expect("delta"));
    assert_eq!(delta_update, now + 20 * 3600);
    // Six days on, the issuing CA's full CRL (7 days) is due; the root's (30 days) is not.
    assert_eq!(
        t.pki.refresh_crls(now + 6 * 86_400).await.expect("refresh"),
        1
    );
    let (update, number) = read(t.pki.crl(&issuing, false).await.expect("crl"));
    assert_eq!(update, now + 6 * 86_400);
    assert!(update > first_update);
    assert_ne!(number, first_number, "a new CRL has a new number");
}
