//! The PKI's storage behaviour, the same on SQLite and PostgreSQL: durability across restarts,
//! concurrent issuance and revocation, several instances creating the PKI at once.

use std::collections::HashSet;
use std::sync::Arc;

use qoltanba::pki::{Declarations, Pki, PkiError};
use qoltanba::store::{CertificateStatus, Store};

use crate::common::*;

on_both_backends!(the_pki_survives_a_restart_and_only_opens_with_its_passphrase);
async fn the_pki_survives_a_restart_and_only_opens_with_its_passphrase(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    let issued = t.issue(individual("individual-sign")).await.record;
    t.pki
        .revoke(&issued.serial, "keyCompromise".parse().expect("r"), None)
        .await
        .expect("revoke");
    let root = t.pki.ca_chain()[1].to_vec();

    let reopen = |passphrase: &'static [u8]| {
        let url = t.url.clone();
        async move {
            let store = Store::connect(&url).await.expect("connect");
            Pki::open(
                store,
                Declarations::load(None).expect("d"),
                "http://127.0.0.1:9",
                passphrase,
            )
            .await
        }
    };
    let again = reopen(PASSPHRASE).await.expect("reopen");
    assert_eq!(
        again.ca_chain()[1],
        root.as_slice(),
        "the same root after a restart"
    );
    let stored = again.certificate(&issued.serial).await.expect("stored");
    assert_eq!(stored.status, CertificateStatus::Revoked);
    assert_eq!(stored.revocation_reason.as_deref(), Some("keyCompromise"));
    assert_eq!(stored.certificate, issued.certificate);

    match reopen(b"not the passphrase").await {
        Err(PkiError::WrongPassphrase) => {}
        other => panic!("a wrong passphrase must be refused as such: {other:?}"),
    }
}

on_both_backends!(concurrent_issuance_gives_unique_serials_and_loses_nothing);
async fn concurrent_issuance_gives_unique_serials_and_loses_nothing(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    let before = t.pki.list(1000, 0).await.expect("list").len();
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let pki = Arc::clone(&t.pki);
            tokio::spawn(async move {
                let mut request = individual("individual-sign");
                request.key = Some(if i % 2 == 0 {
                    qoltanba::crypto::KeyAlgorithm::P256
                } else {
                    qoltanba::crypto::KeyAlgorithm::Ed25519
                });
                pki.issue(&request, None)
                    .await
                    .expect("issue")
                    .record
                    .serial
            })
        })
        .collect();
    let mut serials = HashSet::new();
    for task in tasks {
        assert!(
            serials.insert(task.await.expect("join")),
            "duplicate serial"
        );
    }
    let listed: HashSet<String> = t
        .pki
        .list(1000, 0)
        .await
        .expect("list")
        .into_iter()
        .map(|r| r.serial)
        .collect();
    assert_eq!(listed.len(), before + 12);
    assert!(
        serials.is_subset(&listed),
        "every acknowledged certificate is stored"
    );
}

on_both_backends!(concurrent_revocations_all_land_on_the_crl_with_unique_growing_numbers);
async fn concurrent_revocations_all_land_on_the_crl_with_unique_growing_numbers(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    let mut serials = Vec::new();
    for _ in 0..6 {
        let mut request = individual("individual-sign");
        request.key = Some(qoltanba::crypto::KeyAlgorithm::P256);
        serials.push(t.issue(request).await.record.serial);
    }
    let tasks: Vec<_> = serials
        .iter()
        .map(|s| {
            let (pki, s) = (Arc::clone(&t.pki), s.clone());
            tokio::spawn(
                async move { pki.revoke(&s, "superseded".parse().expect("r"), None).await },
            )
        })
        .collect();
    for task in tasks {
        task.await.expect("join").expect("revoke");
    }
    let issuing = t.pki.issuing().id.clone();
    let crl = t.pki.crl(&issuing, false).await.expect("crl");
    let list = <x509_cert::crl::CertificateList as der::Decode>::from_der(&crl).expect("parse");
    let listed: HashSet<String> = list
        .tbs_cert_list
        .revoked_certificates
        .iter()
        .flatten()
        .map(|r| hex::encode_upper(r.serial_number.as_bytes()))
        .collect();
    for s in &serials {
        assert!(listed.contains(s), "{s} missing from the newest CRL");
    }
    // Every CRL ever published for the CA has its own number (the primary key would refuse a
    // duplicate), and the newest full CRL carries the highest full number.
    use sqlx::Row;
    let pool = sqlx::AnyPool::connect(&t.url).await.expect("pool");
    let rows = sqlx::query("SELECT number, kind FROM crls WHERE issuer_id = $1 ORDER BY number")
        .bind(&issuing)
        .fetch_all(&pool)
        .await
        .expect("crls");
    let numbers: Vec<i64> = rows
        .iter()
        .map(|r| r.try_get("number").expect("n"))
        .collect();
    let unique: HashSet<i64> = numbers.iter().copied().collect();
    assert_eq!(unique.len(), numbers.len(), "{numbers:?}");
    assert!(
        numbers.len() >= 2 * 6,
        "a full and a delta CRL per revocation: {numbers:?}"
    );
}

on_both_backends!(instances_starting_together_create_one_pki);
async fn instances_starting_together_create_one_pki(backend: Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(url) = database(backend, dir.path()).await else {
        return;
    };
    let start = |url: String| async move {
        let store = Store::connect(&url).await.expect("connect");
        Pki::init(
            store,
            Declarations::load(None).expect("d"),
            "http://127.0.0.1:9",
            PASSPHRASE,
        )
        .await
        .expect("init")
    };
    let (a, b) = tokio::join!(
        tokio::spawn(start(url.clone())),
        tokio::spawn(start(url.clone()))
    );
    let ((a, a_created), (b, b_created)) = (a.expect("join"), b.expect("join"));
    assert!(
        a_created ^ b_created,
        "exactly one instance creates the PKI"
    );
    assert_eq!(a.ca_chain(), b.ca_chain(), "both use the same CAs");
}
