//! Shared test scaffolding: a PKI on a fresh database, a server on loopback, OpenSSL.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use qoltanba::http::{router, AppState};
use qoltanba::pki::{Declarations, IssueRequest, Issued, Pki};
use qoltanba::store::Store;

pub(crate) const PASSPHRASE: &[u8] = b"test CA passphrase";
pub(crate) const P12_PASSWORD: &str = "Qwerty12";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database. SQLite lives in the temp dir; PostgreSQL gets a new database on the
/// server named by QOLTANBA_TEST_POSTGRES (e.g. postgres://qoltanba:qoltanba@127.0.0.1:5432),
/// which `.ci/run` starts. Returns None for PostgreSQL when that variable is unset outside CI.
pub(crate) async fn database(backend: Backend, dir: &Path) -> Option<String> {
    match backend {
        Backend::Sqlite => Some(format!("sqlite://{}?mode=rwc", dir.join("q.db").display())),
        Backend::Postgres => {
            let Ok(base) = std::env::var("QOLTANBA_TEST_POSTGRES") else {
                assert!(
                    std::env::var("CI").is_err(),
                    "CI must run the PostgreSQL tests: set QOLTANBA_TEST_POSTGRES"
                );
                eprintln!("QOLTANBA_TEST_POSTGRES unset: PostgreSQL variant not run");
                return None;
            };
            let name = format!("qoltanba_test_{}", hex::encode(rand_suffix()));
            sqlx::any::install_default_drivers();
            let admin = sqlx::AnyPool::connect(&format!("{base}/postgres"))
                .await
                .expect("connect to PostgreSQL");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin)
                .await
                .expect("create test database");
            admin.close().await;
            Some(format!("{base}/{name}"))
        }
    }
}

fn rand_suffix() -> [u8; 6] {
    qoltanba::crypto::random_bytes::<6>().expect("random")
}

/// A test PKI on its own database and directory.
pub(crate) struct TestPki {
    pub pki: Arc<Pki>,
    pub dir: tempfile::TempDir,
    pub url: String,
    /// An API key with the admin scope, for tests that are not about access control.
    pub admin_token: String,
}

impl TestPki {
    pub(crate) async fn new(backend: Backend) -> Option<TestPki> {
        Self::with_public_url(backend, "http://127.0.0.1:9").await
    }

    pub(crate) async fn with_public_url(backend: Backend, public_url: &str) -> Option<TestPki> {
        let declarations = Declarations::load(None).expect("declarations");
        Self::with_declarations(backend, public_url, declarations).await
    }

    /// A PKI from other declarations (such as the all-GOST pki/gost).
    pub(crate) async fn with_declarations(
        backend: Backend,
        public_url: &str,
        declarations: Declarations,
    ) -> Option<TestPki> {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = database(backend, dir.path()).await?;
        let store = Store::connect(&url).await.expect("connect");
        let (pki, created) = Pki::init(store, declarations, public_url, PASSPHRASE)
            .await
            .expect("init PKI");
        assert!(created);
        let (token, _) = qoltanba::security::ApiKeys::new(pki.store().clone())
            .create("test-admin", &[qoltanba::security::Scope::Admin], 0)
            .await
            .expect("admin key");
        Some(TestPki {
            pki: Arc::new(pki),
            dir,
            url,
            admin_token: token.reveal().to_string(),
        })
    }

    /// The audit trail, newest first (up to 1,000 entries).
    pub(crate) async fn trail(&self) -> Vec<qoltanba::store::AuditEvent> {
        self.pki
            .store()
            .audit_events(&qoltanba::store::AuditQuery {
                limit: 1000,
                ..Default::default()
            })
            .await
            .expect("audit trail")
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes the issuing CA and root as separate PEM files; returns (issuing, root).
    pub(crate) fn ca_files(&self) -> (PathBuf, PathBuf) {
        let chain = self.pki.ca_chain();
        let issuing = self.path("issuing.pem");
        let root = self.path("root.pem");
        std::fs::write(
            &issuing,
            qoltanba::pki::certificate::pem(chain[0]).expect("pem"),
        )
        .expect("write");
        std::fs::write(
            &root,
            qoltanba::pki::certificate::pem(chain[1]).expect("pem"),
        )
        .expect("write");
        (issuing, root)
    }

    /// The service's state: this PKI and a verifier trusting its root, answering revocation
    /// from its database, offline (tests never reach beyond loopback).
    pub(crate) fn state(&self) -> AppState {
        self.state_with(self.verifier(), qoltanba::config::SecurityConfig::default())
    }

    /// A verifier trusting this PKI's root, answering revocation from its database, offline.
    pub(crate) fn verifier(&self) -> qoltanba::verify::Verifier {
        let settings = qoltanba::verify::Settings {
            anchors: vec![("own root".into(), self.pki.root().certificate_der.clone())],
            intermediates: vec![(
                "own issuing CA".into(),
                self.pki.issuing().certificate_der.clone(),
            )],
            offline: true,
            sources: vec![Arc::clone(&self.pki) as Arc<dyn qoltanba::verify::RevocationSource>],
            ..Default::default()
        };
        qoltanba::verify::Verifier::new(settings).expect("verifier")
    }

    /// The service's state with other access settings (open routes, limits).
    pub(crate) fn state_with(
        &self,
        verifier: qoltanba::verify::Verifier,
        security: qoltanba::config::SecurityConfig,
    ) -> AppState {
        AppState {
            pki: Arc::clone(&self.pki),
            verifier: Arc::new(verifier),
            official: None,
            access: Arc::new(qoltanba::http::access::Access::new(
                self.pki.store().clone(),
                security,
            )),
            inline_evidence: true,
        }
    }

    pub(crate) async fn issue(&self, request: IssueRequest) -> Issued {
        self.pki.issue(&request, None).await.expect("issue")
    }

    /// A PKI whose certificates point (CDP, AIA) at a server already running for it on
    /// 127.0.0.1: the port is bound before the PKI is created.
    pub(crate) async fn served(backend: Backend) -> Option<(TestPki, String)> {
        let declarations = Declarations::load(None).expect("declarations");
        Self::served_with(backend, declarations).await
    }

    /// [`TestPki::served`] with other declarations.
    pub(crate) async fn served_with(
        backend: Backend,
        declarations: Declarations,
    ) -> Option<(TestPki, String)> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let t = Self::with_declarations(backend, &base, declarations).await?;
        let app = router(t.state());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Some((t, base))
    }

    /// Serves the router on 127.0.0.1 (random port) until the test ends; returns the base URL.
    pub(crate) async fn serve(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = router(self.state());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        format!("http://{addr}")
    }
}

/// An individual signing request with a valid IIN.
pub(crate) fn individual(profile: &str) -> IssueRequest {
    IssueRequest {
        profile: profile.into(),
        iin: Some(valid_iin()),
        surname: Some("ТЕСТОВ".into()),
        given_name: Some("ТЕСТ".into()),
        patronymic: Some("ТЕСТОВИЧ".into()),
        password: Some(zeroize::Zeroizing::new(P12_PASSWORD.into())),
        ..IssueRequest::default()
    }
}

/// A legal-entity request (first head etc.) with a valid IIN and one of the real valid BINs.
pub(crate) fn legal(profile: &str) -> IssueRequest {
    IssueRequest {
        bin: Some("940140000385".into()),
        org: Some("АО \"ҚОЛТАҢБА ТЕСТ\"".into()),
        ..individual(profile)
    }
}

pub(crate) fn valid_iin() -> String {
    qoltanba::identity::Iin::generate(1990, 5, 17, qoltanba::identity::Sex::Male, 1234)
        .expect("generate IIN")
        .to_string()
}

/// Runs openssl; returns the output whatever the exit status.
pub(crate) fn openssl(args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl CLI must be installed for the interop tests")
}

/// Runs openssl and returns stdout+stderr, failing the test if it exits non-zero.
pub(crate) fn openssl_ok(args: &[&str]) -> String {
    let out = openssl(args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "openssl {args:?} failed:\n{text}");
    text
}

pub(crate) fn write(path: &Path, bytes: impl AsRef<[u8]>) -> String {
    std::fs::write(path, bytes).expect("write");
    path.to_str().expect("utf-8 path").to_owned()
}

/// Runs `async fn scenario(backend: Backend)` once per backend, as `scenario::sqlite` and
/// `scenario::postgres` (the PostgreSQL one reports itself not run without
/// QOLTANBA_TEST_POSTGRES, outside CI).
macro_rules! on_both_backends {
    ($scenario:ident) => {
        mod $scenario {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$scenario(Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$scenario(Backend::Postgres).await
            }
        }
    };
}

/// NCA's test CRLs were issued after the test certificates expired and do not carry
/// ExpiredCertsOnCRL, so their silence proves nothing about a time before (a CA may drop the
/// entries of expired certificates, RFC 5280 §3.3; issue 15): a signature judged then passes
/// every check but revocation, which is INDETERMINATE / REVOCATION_OUT_OF_BOUNDS_NO_POE.
pub(crate) fn assert_valid_but_for_crl_after_expiry(checks: &[qoltanba::verify::report::Check]) {
    use qoltanba::verify::Status;
    for check in checks {
        if check.id == "revocation" {
            assert_eq!(check.status, Status::Indeterminate, "{check:#?}");
            assert_eq!(check.code, "REVOCATION_OUT_OF_BOUNDS_NO_POE", "{check:#?}");
            assert!(
                check
                    .detail
                    .contains("issued after the certificate expired"),
                "{check:#?}"
            );
        } else {
            assert!(
                matches!(check.status, Status::Passed | Status::Skipped),
                "{check:#?}"
            );
        }
    }
}
