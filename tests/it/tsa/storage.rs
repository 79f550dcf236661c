//! The TSA on the database: serials unique across instances, and a database from before the
//! TSA existed, on SQLite and PostgreSQL.

use super::*;
use qoltanba::pki::{Declarations, Pki};
use qoltanba::store::Store;

on_both_backends!(serials_are_unique_across_two_instances_on_one_database);
async fn serials_are_unique_across_two_instances_on_one_database(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    let store = Store::connect(&t.url).await.expect("second connection");
    let declarations = Declarations::load(None).expect("declarations");
    let second = std::sync::Arc::new(
        Pki::open(store, declarations, "http://127.0.0.1:9", PASSPHRASE)
            .await
            .expect("second instance"),
    );
    assert_eq!(second.tsa_certificate(), t.pki.tsa_certificate());
    let query = der(&request(SHA256, &[9; 32]));
    let mut tasks = Vec::new();
    for i in 0..40 {
        let pki = if i % 2 == 0 {
            std::sync::Arc::clone(&t.pki)
        } else {
            std::sync::Arc::clone(&second)
        };
        let query = query.clone();
        tasks.push(tokio::spawn(async move {
            pki.tsp_respond(&query, qoltanba::time::now(), None).await
        }));
    }
    let mut serials = HashSet::new();
    for task in tasks {
        let answer = task.await.expect("task");
        assert!(answer.granted);
        let (info, _) = token_of(&answer.der);
        assert!(
            serials.insert(info.serial_number.as_bytes().to_vec()),
            "serial {:?} issued twice",
            info.serial_number
        );
    }
    assert_eq!(serials.len(), 40);
}

on_both_backends!(a_database_from_before_the_tsa_gets_one_at_its_first_start);
async fn a_database_from_before_the_tsa_gets_one_at_its_first_start(backend: Backend) {
    let Some(t) = TestPki::new(backend).await else {
        return;
    };
    // Make it a database of the previous schema: no TSA, no serial counter, no migration 5.
    let old_tsa = t.pki.tsa_certificate().to_vec();
    let pool = sqlx::AnyPool::connect(&t.url).await.expect("connect");
    for statement in [
        "DELETE FROM certificates WHERE profile = 'tsa'",
        "DELETE FROM authorities WHERE role = 'tsa'",
        "DELETE FROM counters WHERE name = 'tsp_serial'",
        "DELETE FROM qoltanba_schema WHERE version = 5",
    ] {
        sqlx::query(statement)
            .execute(&pool)
            .await
            .expect(statement);
    }
    pool.close().await;

    let store = Store::connect(&t.url).await.expect("migrates again");
    let declarations = Declarations::load(None).expect("declarations");
    let (pki, created) = Pki::init(store, declarations, "http://127.0.0.1:9", PASSPHRASE)
        .await
        .expect("start");
    assert!(!created, "the PKI existed; only the TSA is new");
    assert_ne!(pki.tsa_certificate(), old_tsa.as_slice());
    let cert = Certificate::from_der(pki.tsa_certificate()).expect("cert");
    assert_eq!(
        cert.tbs_certificate.issuer,
        Certificate::from_der(&pki.issuing().certificate_der)
            .expect("issuing")
            .tbs_certificate
            .subject
    );
    let serial = qoltanba::pki::certificate::serial_hex(&cert.tbs_certificate.serial_number);
    let record = pki
        .certificate(&serial)
        .await
        .expect("listed as a certificate");
    assert_eq!(record.profile, "tsa");
    let answer = pki
        .tsp_respond(
            &der(&request(SHA256, &[3; 32])),
            qoltanba::time::now(),
            None,
        )
        .await;
    assert!(answer.granted);
    assert_eq!(token_of(&answer.der).0.serial_number.as_bytes(), [1]);

    // Its certificate is the service's own: neither revocable nor issued to anyone else.
    let refused = pki
        .revoke(&serial, "keyCompromise".parse().expect("r"), None)
        .await
        .expect_err("the TSA certificate is in use");
    assert!(refused.to_string().contains("time-stamping"), "{refused}");
    let mut asked = individual("tsa");
    asked.iin = None;
    assert!(pki.issue(&asked, None).await.is_err());
}
