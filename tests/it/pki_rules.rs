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
        .revoke(&responder.serial, "keyCompromise".parse().expect("r"))
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
        t.pki.revoke(&serial, reason).await,
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
    let err = t.pki.issue(&request).await.err().expect("refused");
    assert!(
        err.to_string().contains("allow_invalid_check_digit"),
        "{err}"
    );
    request.allow_invalid_check_digit = true;
    let issued = t.pki.issue(&request).await.expect("accepted with the flag");
    assert_eq!(issued.record.iin.as_deref(), Some(iin.as_str()));
    // A malformed number is not something the flag accepts: no hint.
    request.iin = Some("12345".into());
    request.allow_invalid_check_digit = false;
    let err = t.pki.issue(&request).await.err().expect("refused");
    assert!(
        !err.to_string().contains("allow_invalid_check_digit"),
        "{err}"
    );
}
