//! A PKI that our own code did NOT make: a CA hierarchy built by the OpenSSL CLI (`openssl ca`
//! with an index.txt database), leaves in the NCA RK profile, CRLs, CMS signatures and an
//! `openssl ocsp` responder, plus a tiny HTTP file server for CRL distribution points.
//! The verifier tests use this builder; the tests at the bottom prove the builder itself works,
//! each artefact checked with openssl.
//!
//! What differs from NCA RK:
//! - The subject is encoded exactly as NCA's (`fixtures/nca/rsa/individual_valid_sign.pem`,
//!   `fixtures/nca/gost/legal_valid_head.cer`): CN, SURNAME, O, OU and GIVENNAME as
//!   UTF8String, serialNumber and C as PrintableString (OpenSSL's string table forces
//!   PrintableString for those two even under `string_mask = utf8only`), in NCA's order
//!   (`openssl ca -preserveDN`, since the config's `preserve = yes` had no effect in 3.0; the
//!   policy section lists the fields in the same order as a second guard).
//! - Extensions: keyUsage (critical), EKU, AKI, SKI, certificatePolicies (CPS + UserNotice as
//!   UTF8String), CRL DP and AIA (caIssuers + OCSP) as NCA, but no Freshest CRL (no delta CRLs).
//!   CRL DP/AIA are only there when `cdp_base`/`ocsp_url` are given. The legal AUTH policy OID
//!   1.2.398.3.3.2.2 is our assumption (no NCA fixture for it).
//! - Serials are 20 random bytes (`-rand_serial`), as NCA; CAs are RSA-2048 and valid
//!   2015-01-01 … 2100-12-31, so back-dated and far-future leaves nest inside them.
//!
//! `openssl cms -verify` in 3.0 has no -untrusted and does not build the chain from -certfile:
//! give it `ca_bundle_pem()` (root + intermediate) as -CAfile.
//!
//! OpenSSL 3.0 responder caveats (found by experiment, see `ocsp_responder`):
//! - `openssl ocsp -port` takes only a number and listens on all interfaces ([::]).
//! - It re-reads a changed index between requests, but in our tries a re-read racing
//!   `openssl ca`'s rename of index.txt failed ("error reloading updated index") and left it
//!   spinning at 100% CPU; and it answers "unknown" for serials issued after its last read.
//!   So the responder reads a private copy of the index (with `unique_subject = no` in its
//!   .attr, else two leaves with one subject make it refuse the index) and is restarted on the
//!   same port by every `leaf()`, `revoke()` and `revoke_issuing()`.
//! - A connection closed without sending a request makes the serving process spin forever, and
//!   a malformed request makes it exit unless `-ignore_err`. We run `-multi 2 -ignore_err` (a
//!   spinning worker leaves the other one serving; with -multi, openssl logs everything after
//!   start-up to syslog only), and detect readiness by its "ACCEPT" line plus one real OCSP
//!   request, never by a bare connect.

#![allow(dead_code)] // a builder for other modules: not every helper is used here

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/// The CA hierarchy, its databases and everything made from it, in `dir`.
pub(crate) struct OpensslPki {
    pub dir: tempfile::TempDir,
    cdp_base: Option<String>,
    ocsp_url: Option<String>,
    /// Serialises `openssl ca` runs on the two databases.
    ca_lock: Mutex<()>,
    counter: AtomicUsize,
    responders: Mutex<Vec<Weak<Mutex<ResponderProcess>>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LeafKey {
    Rsa2048,
    Rsa1024,
    P256,
    P384,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LeafKind {
    /// keyUsage critical digitalSignature+nonRepudiation; EKU emailProtection + 1.2.398.3.3.4.1.1
    /// (individual) or 1.2.398.3.3.4.1.2 + 1.2.398.3.3.4.1.2.1 (legal: `bin` set).
    Sign,
    /// keyUsage critical digitalSignature+keyEncipherment; EKU clientAuth + the same role OIDs.
    Auth,
}

#[derive(Debug, Clone)]
pub(crate) struct LeafSpec {
    /// File stem of the leaf's files (`leaves/{name}.pem` …).
    pub name: String,
    pub key: LeafKey,
    pub kind: LeafKind,
    /// Digits only; the subject gets serialNumber "IIN{iin}". None: no serialNumber at all.
    pub iin: Option<String>,
    /// Digits only; makes it a legal-entity leaf: O = org, OU = "BIN{bin}", legal role OIDs.
    pub bin: Option<String>,
    /// O; defaults to `АО "ТЕСТ"` when `bin` is set (ignored without `bin`).
    pub org: Option<String>,
    /// `openssl ca -startdate`: YYYYMMDDHHMMSSZ (or YYMMDDHHMMSSZ). None: now.
    pub start: Option<String>,
    /// `openssl ca -enddate`. None: start-of-issuance + 365 days.
    pub end: Option<String>,
}

impl LeafSpec {
    /// An individual signing leaf (RSA-2048) with a valid IIN.
    pub(crate) fn new(name: &str) -> LeafSpec {
        LeafSpec {
            name: name.into(),
            ..LeafSpec::default()
        }
    }
}

impl Default for LeafSpec {
    fn default() -> LeafSpec {
        LeafSpec {
            name: "leaf".into(),
            key: LeafKey::Rsa2048,
            kind: LeafKind::Sign,
            iin: Some(crate::common::valid_iin()),
            bin: None,
            org: None,
            start: None,
            end: None,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Leaf {
    pub cert_pem: PathBuf,
    pub cert_der: PathBuf,
    /// PKCS#8 PEM, unencrypted.
    pub key_pem: PathBuf,
    /// Upper-case hex, as `openssl x509 -serial` prints it.
    pub serial_hex: String,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct SignOpts {
    /// false: `-nodetach` (content inside the SignedData).
    pub detached: bool,
    /// `-md`: "sha256", "sha1", "sha384", …
    pub md: &'static str,
    /// false: `-nocerts` (no certificate in the SignedData).
    pub with_certs: bool,
    /// false: `-noattr` (no signed attributes).
    pub with_attrs: bool,
    /// RSASSA-PSS instead of PKCS#1 v1.5, with this `rsa_pss_saltlen` ("digest", "max", "20").
    pub pss_saltlen: Option<&'static str>,
}

impl Default for SignOpts {
    fn default() -> SignOpts {
        SignOpts {
            detached: false,
            md: "sha256",
            with_certs: true,
            with_attrs: true,
            pss_saltlen: None,
        }
    }
}

/// A running `openssl ocsp` responder for the issuing CA; killed (whole process group) on drop.
pub(crate) struct OcspResponder {
    /// e.g. http://127.0.0.1:PORT/ (exactly the `ocsp_url` given to `OpensslPki::new`, if any).
    pub url: String,
    pub port: u16,
    /// The delegated responder certificate (EKU OCSPSigning, ocsp-nocheck), PEM.
    pub signer_pem: PathBuf,
    process: Arc<Mutex<ResponderProcess>>,
}

impl Drop for OcspResponder {
    fn drop(&mut self) {
        if let Ok(mut p) = self.process.lock() {
            p.stop();
        }
    }
}

impl OpensslPki {
    /// Root CA (RSA-2048, self-signed, CN "OSSL TEST ROOT", C=KZ) → intermediate "OSSL TEST
    /// ISSUING" (RSA-2048, basicConstraints critical CA:TRUE pathlen:0, keyCertSign+cRLSign) →
    /// leaves. With `cdp_base`, leaves carry CDP `{cdp_base}/issuing.crl` and AIA caIssuers
    /// `{cdp_base}/issuing.cer`, the intermediate CDP `{cdp_base}/root.crl` and caIssuers
    /// `{cdp_base}/root.cer`; with `ocsp_url`, leaves carry AIA OCSP `{ocsp_url}`. The files
    /// named by those URLs live in `pub_dir()` (serve it with `FileServer`).
    pub(crate) fn new(cdp_base: Option<&str>, ocsp_url: Option<&str>) -> OpensslPki {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = OpensslPki {
            dir,
            cdp_base: cdp_base.map(|s| s.trim_end_matches('/').to_owned()),
            ocsp_url: ocsp_url.map(str::to_owned),
            ca_lock: Mutex::new(()),
            counter: AtomicUsize::new(0),
            responders: Mutex::new(Vec::new()),
        };
        for sub in [
            "root/newcerts",
            "issuing/newcerts",
            "pub",
            "crl",
            "leaves",
            "cms",
            "ocsp",
        ] {
            std::fs::create_dir_all(pki.path(sub)).expect("mkdir");
        }
        for ca in ["root", "issuing"] {
            std::fs::write(pki.path(&format!("{ca}/index.txt")), "").expect("index");
            std::fs::write(
                pki.path(&format!("{ca}/index.txt.attr")),
                "unique_subject = no\n",
            )
            .expect("attr");
            std::fs::write(pki.path(&format!("{ca}/crlnumber")), "1000\n").expect("crlnumber");
            std::fs::write(pki.path(&format!("{ca}/ca.cnf")), pki.ca_config(ca)).expect("cnf");
        }

        // Root: self-signed through `openssl ca -selfsign`, so that it has dates of our choosing
        // and a database (for the root CRL and revoking the intermediate).
        let root_key = pki.path("root/key.pem");
        genkey(LeafKey::Rsa2048, &root_key);
        let root_csr = pki.path("root/req.csr");
        pki.csr(&root_key, "/CN=OSSL TEST ROOT/C=KZ", &root_csr);
        pki.ca_sign(
            "root",
            &root_csr,
            "v3_root",
            Some(CA_START),
            Some(CA_END),
            &pki.path("root/cert.pem"),
            true,
        );
        copy(&pki.path("root/cert.pem"), &pki.root_pem());
        to_der(&pki.root_pem(), &pki.root_der());
        copy(&pki.root_der(), &pki.pub_dir().join("root.cer"));

        let issuing_key = pki.path("issuing/key.pem");
        genkey(LeafKey::Rsa2048, &issuing_key);
        let issuing_csr = pki.path("issuing/req.csr");
        pki.csr(&issuing_key, "/CN=OSSL TEST ISSUING/C=KZ", &issuing_csr);
        pki.ca_sign(
            "root",
            &issuing_csr,
            "v3_issuing",
            Some(CA_START),
            Some(CA_END),
            &pki.path("issuing/cert.pem"),
            false,
        );
        copy(&pki.path("issuing/cert.pem"), &pki.issuing_pem());
        to_der(&pki.issuing_pem(), &pki.issuing_der());
        copy(&pki.issuing_der(), &pki.pub_dir().join("issuing.cer"));
        let mut bundle = std::fs::read(pki.root_pem()).expect("root");
        bundle.extend(std::fs::read(pki.issuing_pem()).expect("issuing"));
        std::fs::write(pki.ca_bundle_pem(), bundle).expect("bundle");
        pki
    }

    pub(crate) fn root_pem(&self) -> PathBuf {
        self.path("root.pem")
    }
    pub(crate) fn root_der(&self) -> PathBuf {
        self.path("root.der")
    }
    pub(crate) fn issuing_pem(&self) -> PathBuf {
        self.path("issuing.pem")
    }
    pub(crate) fn issuing_der(&self) -> PathBuf {
        self.path("issuing.der")
    }
    /// Root then intermediate, PEM. `openssl cms -verify` (3.0) has no -untrusted and does not
    /// use -certfile to build the chain, so give it this as -CAfile.
    pub(crate) fn ca_bundle_pem(&self) -> PathBuf {
        self.path("ca-bundle.pem")
    }
    /// What the CDP/AIA URLs name: root.cer, issuing.cer, and every CRL made by `crl`,
    /// `stale_crl` and `root_crl` as `{name}.crl` (DER). Serve it with `FileServer`.
    pub(crate) fn pub_dir(&self) -> PathBuf {
        self.path("pub")
    }
    /// The intermediate's and root's private keys (PEM), e.g. to forge things by hand.
    pub(crate) fn issuing_key(&self) -> PathBuf {
        self.path("issuing/key.pem")
    }
    pub(crate) fn root_key(&self) -> PathBuf {
        self.path("root/key.pem")
    }

    /// A leaf signed by the intermediate via `openssl ca`. Subject, in NCA order:
    /// CN "ТЕСТОВ ТЕСТ", SN "ТЕСТОВ", serialNumber "IIN…", C=KZ, [O, OU "BIN…"], GN "ТЕСТОВИЧ".
    /// Also restarts any running OCSP responder so that it knows the new serial.
    pub(crate) fn leaf(&self, spec: &LeafSpec) -> Leaf {
        assert!(
            !spec.name.is_empty() && !spec.name.contains(['/', '\\']),
            "bad leaf name {:?}",
            spec.name
        );
        let key_pem = self.path(&format!("leaves/{}.key.pem", spec.name));
        let csr = self.path(&format!("leaves/{}.csr", spec.name));
        let cert_pem = self.path(&format!("leaves/{}.pem", spec.name));
        let cert_der = self.path(&format!("leaves/{}.der", spec.name));
        genkey(spec.key, &key_pem);

        let mut subject = vec![
            ("CN", "ТЕСТОВ ТЕСТ".to_owned()),
            ("SN", "ТЕСТОВ".to_owned()),
        ];
        if let Some(iin) = &spec.iin {
            subject.push(("serialNumber", format!("IIN{iin}")));
        }
        subject.push(("C", "KZ".to_owned()));
        if let Some(bin) = &spec.bin {
            let org = spec.org.clone().unwrap_or_else(|| "АО \"ТЕСТ\"".to_owned());
            subject.push(("O", org));
            subject.push(("OU", format!("BIN{bin}")));
        }
        subject.push(("GN", "ТЕСТОВИЧ".to_owned()));
        let subj: String = subject
            .iter()
            .map(|(k, v)| format!("/{k}={}", escape_subj(v)))
            .collect();
        self.csr(&key_pem, &subj, &csr);

        let section = match (spec.kind, spec.bin.is_some()) {
            (LeafKind::Sign, false) => "sign_individual",
            (LeafKind::Sign, true) => "sign_legal",
            (LeafKind::Auth, false) => "auth_individual",
            (LeafKind::Auth, true) => "auth_legal",
        };
        self.ca_sign(
            "issuing",
            &csr,
            section,
            spec.start.as_deref(),
            spec.end.as_deref(),
            &cert_pem,
            false,
        );
        to_der(&cert_pem, &cert_der);
        let serial_hex = serial_of(&cert_pem);
        self.refresh_responders();
        Leaf {
            cert_pem,
            cert_der,
            key_pem,
            serial_hex,
        }
    }

    /// `openssl ca -revoke … -crl_reason R` on the intermediate's database (R e.g.
    /// "keyCompromise", "superseded", "cessationOfOperation"; "certificateHold" goes through
    /// `-crl_hold holdInstructionReject`). The revocation time is now (openssl ca cannot
    /// back-date it). Restarts any running OCSP responder.
    pub(crate) fn revoke(&self, leaf: &Leaf, reason: &str) {
        self.revoke_in("issuing", &leaf.cert_pem, reason);
    }

    /// Revokes the intermediate in the root's database (see `root_crl`).
    pub(crate) fn revoke_issuing(&self, reason: &str) {
        self.revoke_in("root", &self.path("issuing/cert.pem"), reason);
    }

    /// `openssl ca -gencrl -crlhours {hours}` for the intermediate: `pub_dir()/{name}.crl` (DER)
    /// and `crl/{name}.pem`. `hours == 0` means the config's default_crl_days (1 day).
    pub(crate) fn crl(&self, name: &str, hours: u32) -> (PathBuf, PathBuf) {
        let mut extra = Vec::new();
        if hours > 0 {
            extra = vec!["-crlhours".to_owned(), hours.to_string()];
        }
        self.gencrl("issuing", name, &extra)
    }

    /// A CRL of the intermediate that is already stale: lastUpdate two days ago, nextUpdate one
    /// day ago (OpenSSL 3.0's `-crl_lastupdate/-crl_nextupdate`; no sleeping, no faketime).
    /// Returns `pub_dir()/{name}.crl` (DER) and its nextUpdate as unix seconds.
    pub(crate) fn stale_crl(&self, name: &str) -> (PathBuf, i64) {
        let now = unix_now();
        let last = now - 2 * 86_400;
        let next = now - 86_400;
        let extra = vec![
            "-crl_lastupdate".to_owned(),
            generalized_time(last),
            "-crl_nextupdate".to_owned(),
            generalized_time(next),
        ];
        let (der, _) = self.gencrl("issuing", name, &extra);
        (der, next)
    }

    /// The intermediate's CRL with ExpiredCertsOnCRL (2000-01-01): `pub_dir()/{name}.crl`.
    pub(crate) fn crl_keeping_expired(&self, name: &str) -> PathBuf {
        let extra = ["-crlexts".to_owned(), "crl_ext_keeps_expired".to_owned()];
        self.gencrl("issuing", name, &extra).0
    }

    /// The root's CRL (revocation of the intermediate): `pub_dir()/root.crl`, DER; also
    /// `crl/root.pem`.
    pub(crate) fn root_crl(&self) -> PathBuf {
        self.gencrl("root", "root", &[]).0
    }

    /// CMS SignedData (`openssl cms -sign -binary -md {md} -outform DER`) of `content`.
    pub(crate) fn sign(&self, leaf: &Leaf, content: &[u8], opts: &SignOpts) -> PathBuf {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let input = self.path(&format!("cms/content-{n}.bin"));
        std::fs::write(&input, content).expect("write content");
        let out = self.path(&format!("cms/sig-{n}.p7s"));
        let mut args: Vec<String> = vec![
            "cms".into(),
            "-sign".into(),
            "-binary".into(),
            "-in".into(),
            s(&input),
            "-signer".into(),
            s(&leaf.cert_pem),
            "-inkey".into(),
            s(&leaf.key_pem),
            "-md".into(),
            opts.md.into(),
            "-outform".into(),
            "DER".into(),
            "-out".into(),
            s(&out),
        ];
        if !opts.detached {
            args.push("-nodetach".into());
        }
        if !opts.with_certs {
            args.push("-nocerts".into());
        }
        if !opts.with_attrs {
            args.push("-noattr".into());
        }
        if let Some(saltlen) = opts.pss_saltlen {
            for opt in [
                "rsa_padding_mode:pss".to_owned(),
                format!("rsa_pss_saltlen:{saltlen}"),
            ] {
                args.extend(["-keyopt".into(), opt]);
            }
        }
        run_openssl(&args);
        out
    }

    /// Attached SignedData (sha256, certificates, signed attributes) with two SignerInfos.
    pub(crate) fn sign_two(&self, a: &Leaf, b: &Leaf, content: &[u8]) -> PathBuf {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let input = self.path(&format!("cms/content-{n}.bin"));
        std::fs::write(&input, content).expect("write content");
        let out = self.path(&format!("cms/sig-{n}.p7s"));
        run_openssl(&[
            "cms".into(),
            "-sign".into(),
            "-binary".into(),
            "-nodetach".into(),
            "-in".into(),
            s(&input),
            "-signer".into(),
            s(&a.cert_pem),
            "-inkey".into(),
            s(&a.key_pem),
            "-signer".into(),
            s(&b.cert_pem),
            "-inkey".into(),
            s(&b.key_pem),
            "-md".into(),
            "sha256".into(),
            "-outform".into(),
            "DER".into(),
            "-out".into(),
            s(&out),
        ]);
        out
    }

    /// Starts `openssl ocsp -index <copy of the issuing index> -port PORT -rsigner … -rkey …
    /// -CA issuing -nmin 5 -multi 2 -ignore_err` in its own process group. PORT is the one of
    /// `ocsp_url` when that was given to `new` as http://127.0.0.1:PORT…, else a free port.
    /// Waits (≤ 10 s) until it answers a real OCSP request. `leaf`, `revoke` and
    /// `revoke_issuing` restart it (same port) with a fresh copy of the index; serials it has
    /// never seen are answered "unknown". One live responder per port: with a fixed `ocsp_url`,
    /// drop the previous one before calling this again.
    pub(crate) fn ocsp_responder(&self) -> OcspResponder {
        let signer_pem = self.path("ocsp/signer.pem");
        let signer_key = self.path("ocsp/signer.key.pem");
        if !signer_pem.exists() {
            genkey(LeafKey::Rsa2048, &signer_key);
            let csr = self.path("ocsp/signer.csr");
            self.csr(&signer_key, "/CN=OSSL TEST OCSP/C=KZ", &csr);
            self.ca_sign(
                "issuing",
                &csr,
                "ocsp_signer",
                None,
                None,
                &signer_pem,
                false,
            );
        }
        let (port, url) = match self.ocsp_url.as_deref().and_then(local_port) {
            Some(port) => (port, self.ocsp_url.clone().expect("url")),
            None => {
                let port = free_port();
                (port, format!("http://127.0.0.1:{port}/"))
            }
        };
        let mut process = ResponderProcess {
            child: None,
            port,
            index: self.path(&format!("ocsp/index-{port}.txt")),
            log: self.path(&format!("ocsp/log-{port}.txt")),
            issuing_index: self.path("issuing/index.txt"),
            issuer: self.issuing_pem(),
            args: vec![
                "ocsp".into(),
                "-index".into(),
                s(&self.path(&format!("ocsp/index-{port}.txt"))),
                "-port".into(),
                port.to_string(),
                "-rsigner".into(),
                s(&signer_pem),
                "-rkey".into(),
                s(&signer_key),
                "-CA".into(),
                s(&self.issuing_pem()),
                "-nmin".into(),
                "5".into(),
                "-multi".into(),
                "2".into(),
                "-ignore_err".into(),
            ],
        };
        {
            let _ca = self.ca_lock.lock().expect("lock");
            process.start();
        }
        let process = Arc::new(Mutex::new(process));
        self.responders
            .lock()
            .expect("lock")
            .push(Arc::downgrade(&process));
        OcspResponder {
            url,
            port,
            signer_pem,
            process,
        }
    }

    // -----------------------------------------------------------------------------------------

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn csr(&self, key: &Path, subj: &str, out: &Path) {
        run_openssl(&[
            "req".into(),
            "-new".into(),
            "-utf8".into(),
            "-config".into(),
            s(&self.path("root/ca.cnf")),
            "-key".into(),
            s(key),
            "-subj".into(),
            subj.into(),
            "-out".into(),
            s(out),
        ]);
    }

    #[allow(clippy::too_many_arguments)]
    fn ca_sign(
        &self,
        ca: &str,
        csr: &Path,
        extensions: &str,
        start: Option<&str>,
        end: Option<&str>,
        out: &Path,
        selfsign: bool,
    ) {
        let mut args: Vec<String> = vec![
            "ca".into(),
            "-batch".into(),
            "-notext".into(),
            "-utf8".into(),
            "-preserveDN".into(),
            "-rand_serial".into(),
            "-config".into(),
            s(&self.path(&format!("{ca}/ca.cnf"))),
            "-extensions".into(),
            extensions.into(),
            "-in".into(),
            s(csr),
            "-out".into(),
            s(out),
        ];
        if selfsign {
            args.extend([
                "-selfsign".into(),
                "-keyfile".into(),
                s(&self.path(&format!("{ca}/key.pem"))),
            ]);
        }
        if let Some(start) = start {
            args.extend(["-startdate".into(), start.into()]);
        }
        if let Some(end) = end {
            args.extend(["-enddate".into(), end.into()]);
        }
        let _ca = self.ca_lock.lock().expect("lock");
        run_openssl(&args);
    }

    fn revoke_in(&self, ca: &str, cert: &Path, reason: &str) {
        let mut args: Vec<String> = vec![
            "ca".into(),
            "-config".into(),
            s(&self.path(&format!("{ca}/ca.cnf"))),
            "-revoke".into(),
            s(cert),
        ];
        if reason == "certificateHold" {
            args.extend(["-crl_hold".into(), "holdInstructionReject".into()]);
        } else {
            args.extend(["-crl_reason".into(), reason.into()]);
        }
        {
            let _ca = self.ca_lock.lock().expect("lock");
            run_openssl(&args);
        }
        self.refresh_responders();
    }

    fn gencrl(&self, ca: &str, name: &str, extra: &[String]) -> (PathBuf, PathBuf) {
        let pem = self.path(&format!("crl/{name}.pem"));
        let der = self.pub_dir().join(format!("{name}.crl"));
        let mut args: Vec<String> = vec![
            "ca".into(),
            "-gencrl".into(),
            "-config".into(),
            s(&self.path(&format!("{ca}/ca.cnf"))),
            "-out".into(),
            s(&pem),
        ];
        args.extend(extra.iter().cloned());
        {
            let _ca = self.ca_lock.lock().expect("lock");
            run_openssl(&args);
        }
        // Written to a temporary name then renamed, so a FileServer never serves half a CRL.
        let tmp = self.pub_dir().join(format!(".{name}.crl.tmp"));
        run_openssl(&[
            "crl".into(),
            "-in".into(),
            s(&pem),
            "-outform".into(),
            "DER".into(),
            "-out".into(),
            s(&tmp),
        ]);
        std::fs::rename(&tmp, &der).expect("rename CRL");
        (der, pem)
    }

    fn refresh_responders(&self) {
        let live: Vec<Arc<Mutex<ResponderProcess>>> = {
            let mut list = self.responders.lock().expect("lock");
            list.retain(|w| w.strong_count() > 0);
            list.iter().filter_map(Weak::upgrade).collect()
        };
        let _ca = self.ca_lock.lock().expect("lock");
        for p in live {
            let mut p = p.lock().expect("lock");
            if p.child.is_some() {
                p.stop();
                p.start();
            }
        }
    }

    fn ca_config(&self, ca: &str) -> String {
        let dir = s(&self.path(ca));
        let cdp = self.cdp_base.as_deref();
        let ocsp = self.ocsp_url.as_deref();
        let mut c = format!(
            r#"# Written by tests/it/openssl_pki.rs
[ ca ]
default_ca = CA_default

[ CA_default ]
dir = {dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/cert.pem
private_key = $dir/key.pem
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
default_days = 365
default_crl_days = 1
policy = policy_anything
copy_extensions = none
unique_subject = no
preserve = yes
email_in_dn = no
string_mask = utf8only
utf8 = yes
crl_extensions = crl_ext

[ policy_anything ]
commonName = optional
surname = optional
serialNumber = optional
countryName = optional
organizationName = optional
organizationalUnitName = optional
givenName = optional

[ crl_ext ]
authorityKeyIdentifier = keyid:always

# A CRL that says it keeps the entries of certificates expired since 2000 (ExpiredCertsOnCRL,
# X.509 §9.6.2.9): its silence speaks for them too (`-crlexts crl_ext_keeps_expired`).
[ crl_ext_keeps_expired ]
authorityKeyIdentifier = keyid:always
2.5.29.60 = ASN1:GENERALIZEDTIME:20000101000000Z

[ req ]
distinguished_name = req_dn
string_mask = utf8only
utf8 = yes
prompt = no

[ req_dn ]
CN = unused

[ v3_root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ v3_issuing ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
"#
        );
        if let Some(cdp) = cdp {
            c += &format!(
                "crlDistributionPoints = URI:{cdp}/root.crl\n\
                 authorityInfoAccess = caIssuers;URI:{cdp}/root.cer\n"
            );
        }
        if ca == "root" {
            return c;
        }

        c += "\n[ ocsp_signer ]\n\
              keyUsage = critical, digitalSignature\n\
              extendedKeyUsage = OCSPSigning\n\
              authorityKeyIdentifier = keyid\n\
              subjectKeyIdentifier = hash\n\
              noCheck = ignored\n";

        let individual_role = "1.2.398.3.3.4.1.1";
        let legal_role = "1.2.398.3.3.4.1.2, 1.2.398.3.3.4.1.2.1";
        let sections = [
            (
                "sign_individual",
                "digitalSignature, nonRepudiation",
                "emailProtection",
                individual_role,
                "1.2.398.3.3.2.3",
            ),
            (
                "sign_legal",
                "digitalSignature, nonRepudiation",
                "emailProtection",
                legal_role,
                "1.2.398.3.3.2.1",
            ),
            (
                "auth_individual",
                "digitalSignature, keyEncipherment",
                "clientAuth",
                individual_role,
                "1.2.398.3.3.2.4",
            ),
            (
                "auth_legal",
                "digitalSignature, keyEncipherment",
                "clientAuth",
                legal_role,
                "1.2.398.3.3.2.2",
            ),
        ];
        for (name, ku, eku, role, policy) in sections {
            c += &format!(
                "\n[ {name} ]\n\
                 keyUsage = critical, {ku}\n\
                 extendedKeyUsage = {eku}, {role}\n\
                 authorityKeyIdentifier = keyid\n\
                 subjectKeyIdentifier = hash\n\
                 certificatePolicies = @pol_{name}\n"
            );
            if let Some(cdp) = cdp {
                c += &format!("crlDistributionPoints = URI:{cdp}/issuing.crl\n");
            }
            let mut aia = Vec::new();
            if let Some(cdp) = cdp {
                aia.push(format!("caIssuers;URI:{cdp}/issuing.cer"));
            }
            if let Some(ocsp) = ocsp {
                aia.push(format!("OCSP;URI:{ocsp}"));
            }
            if !aia.is_empty() {
                c += &format!("authorityInfoAccess = {}\n", aia.join(", "));
            }
            c += &format!(
                "\n[ pol_{name} ]\n\
                 policyIdentifier = {policy}\n\
                 CPS.1 = http://pki.gov.kz/cps\n\
                 userNotice.1 = @notice\n"
            );
        }
        c += "\n[ notice ]\nexplicitText = UTF8:http://pki.gov.kz/cps\n";
        c
    }
}

impl Drop for OpensslPki {
    fn drop(&mut self) {
        if let Ok(list) = self.responders.lock() {
            for p in list.iter().filter_map(Weak::upgrade) {
                if let Ok(mut p) = p.lock() {
                    p.stop();
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The OCSP responder process
// ---------------------------------------------------------------------------------------------

struct ResponderProcess {
    child: Option<Child>,
    port: u16,
    index: PathBuf,
    log: PathBuf,
    issuing_index: PathBuf,
    issuer: PathBuf,
    args: Vec<String>,
}

impl ResponderProcess {
    /// Copies the index, starts openssl ocsp and waits until it answers a real OCSP request
    /// (a bare connect would make it spin). Retries while the port is still held by a previous
    /// instance.
    fn start(&mut self) {
        use std::os::unix::process::CommandExt;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            copy(&self.issuing_index, &self.index);
            // Without unique_subject = no, openssl ocsp refuses an index holding two
            // certificates with one subject ("Error creating name index").
            let attr = PathBuf::from(format!("{}.attr", self.index.display()));
            std::fs::write(&attr, "unique_subject = no\n").expect("index attr");
            let log = std::fs::File::create(&self.log).expect("log");
            let err = log.try_clone().expect("log");
            let mut child = Command::new("openssl")
                .args(&self.args)
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(err)
                .process_group(0)
                .spawn()
                .expect("spawn openssl ocsp");
            let url = format!("http://127.0.0.1:{}/", self.port);
            let ready = loop {
                if let Some(status) = child.try_wait().expect("try_wait") {
                    let text = std::fs::read_to_string(&self.log).unwrap_or_default();
                    // No ACCEPT: it could not bind, most likely because the previous instance
                    // still holds the port (with -multi openssl says so only to syslog).
                    if Instant::now() < deadline && !text.contains("ACCEPT") {
                        break false;
                    }
                    panic!(
                        "openssl ocsp on port {} exited ({status}); without an ACCEPT line it \
                         could not bind (port in use? -multi logs to syslog only):\n{text}",
                        self.port
                    );
                }
                let text = std::fs::read_to_string(&self.log).unwrap_or_default();
                if text.contains("ACCEPT") {
                    // Listening; now prove it answers (serial 1 is "unknown" to it).
                    let probe = Command::new("openssl")
                        .args(["ocsp", "-issuer", &s(&self.issuer), "-serial", "0x01"])
                        .args(["-url", &url, "-noverify", "-timeout", "2"])
                        .stdin(Stdio::null())
                        .output()
                        .expect("openssl ocsp probe");
                    if probe.status.success() {
                        break true;
                    }
                }
                if Instant::now() > deadline {
                    kill_group(&mut child);
                    panic!(
                        "openssl ocsp on port {} did not answer within 10 s:\n{text}",
                        self.port
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            if ready {
                self.child = Some(child);
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_group(&mut child);
        }
    }
}

impl Drop for ResponderProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// SIGKILL to the child's whole process group (the -multi workers; the -multi parent did
/// not exit on SIGTERM in our tries), then reap the child.
fn kill_group(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

fn local_port(url: &str) -> Option<u16> {
    let rest = url.strip_prefix("http://127.0.0.1:")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// A port that was free a moment ago on 127.0.0.1.
pub(crate) fn free_port() -> u16 {
    let l = StdListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("addr").port()
}

/// `http://127.0.0.1:PORT/` with a port that was free a moment ago: pass it to
/// `OpensslPki::new` as `ocsp_url`, and `ocsp_responder()` will listen there.
pub(crate) fn free_local_url() -> String {
    format!("http://127.0.0.1:{}/", free_port())
}

// ---------------------------------------------------------------------------------------------
// Running openssl, files, time
// ---------------------------------------------------------------------------------------------

const CA_START: &str = "20150101000000Z";
const CA_END: &str = "21001231235959Z";

fn s(p: &Path) -> String {
    p.to_str().expect("utf-8 path").to_owned()
}

/// Runs openssl; panics with the command line, stdout and stderr if it fails. Returns stdout.
fn run_openssl(args: &[String]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the openssl CLI must be installed");
    if !out.status.success() {
        panic!(
            "openssl {} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn genkey(key: LeafKey, out: &Path) {
    let (alg, opt) = match key {
        LeafKey::Rsa2048 => ("RSA", "rsa_keygen_bits:2048"),
        LeafKey::Rsa1024 => ("RSA", "rsa_keygen_bits:1024"),
        LeafKey::P256 => ("EC", "ec_paramgen_curve:P-256"),
        LeafKey::P384 => ("EC", "ec_paramgen_curve:P-384"),
    };
    run_openssl(&[
        "genpkey".into(),
        "-algorithm".into(),
        alg.into(),
        "-pkeyopt".into(),
        opt.into(),
        "-quiet".into(),
        "-out".into(),
        s(out),
    ]);
}

fn to_der(pem: &Path, der: &Path) {
    run_openssl(&[
        "x509".into(),
        "-in".into(),
        s(pem),
        "-outform".into(),
        "DER".into(),
        "-out".into(),
        s(der),
    ]);
}

fn serial_of(pem: &Path) -> String {
    let out = run_openssl(&[
        "x509".into(),
        "-in".into(),
        s(pem),
        "-noout".into(),
        "-serial".into(),
    ]);
    out.trim()
        .strip_prefix("serial=")
        .unwrap_or_else(|| panic!("unexpected -serial output {out:?}"))
        .to_ascii_uppercase()
}

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to)
        .unwrap_or_else(|e| panic!("copy {} → {}: {e}", from.display(), to.display()));
}

/// `-subj` value escaping: '/', '+' and '\' are special to openssl's parser.
fn escape_subj(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(c, '/' | '+' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Unix seconds → "YYYYMMDDHHMMSSZ" (what `openssl ca -startdate/-enddate/-crl_*update` take).
pub(crate) fn generalized_time(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}Z",
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

/// OpenSSL's printed date ("Jan  1 00:00:00 2020 GMT", as after `notBefore=`) → unix seconds.
pub(crate) fn openssl_date_to_unix(text: &str) -> i64 {
    let parts: Vec<&str> = text.split_whitespace().collect();
    assert!(
        parts.len() == 5 && parts[4] == "GMT",
        "unexpected date {text:?}"
    );
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = MONTHS
        .iter()
        .position(|x| *x == parts[0])
        .unwrap_or_else(|| panic!("month in {text:?}")) as i64
        + 1;
    let d: i64 = parts[1].parse().expect("day");
    let hms: Vec<i64> = parts[2]
        .split(':')
        .map(|x| x.parse().expect("time"))
        .collect();
    let y: i64 = parts[3].parse().expect("year");
    days_from_civil(y, m, d) * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2]
}

// ---------------------------------------------------------------------------------------------
// FileServer
// ---------------------------------------------------------------------------------------------

/// Serves the files of a directory over HTTP/1.1 (keep-alive) on 127.0.0.1:random. GET only
/// (405 otherwise), 404 for anything missing or with "..". Counts GET requests per path,
/// whether found or not. The directory is read at request time, and `set_dir` may change it
/// (start the server first, give its URL to `OpensslPki::new`, then `set_dir(pki.pub_dir())`).
/// Stops on drop.
pub(crate) struct FileServer {
    addr: SocketAddr,
    dir: Arc<Mutex<PathBuf>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FileServer {
    pub(crate) async fn start(dir: PathBuf) -> FileServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("addr");
        let dir = Arc::new(Mutex::new(dir));
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let (d, h) = (Arc::clone(&dir), Arc::clone(&hits));
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (d, h) = (Arc::clone(&d), Arc::clone(&h));
                tokio::spawn(async move {
                    let _ = serve_connection(stream, d, h).await;
                });
            }
        });
        FileServer {
            addr,
            dir,
            hits,
            task,
        }
    }

    /// http://127.0.0.1:PORT (no trailing slash).
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// GET requests seen for `path` ("/issuing.crl" or "issuing.crl").
    pub(crate) fn hits(&self, path: &str) -> usize {
        let key = format!("/{}", path.trim_start_matches('/'));
        *self.hits.lock().expect("lock").get(&key).unwrap_or(&0)
    }

    pub(crate) fn set_dir(&self, dir: PathBuf) {
        *self.dir.lock().expect("lock") = dir;
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_connection(
    mut stream: tokio::net::TcpStream,
    dir: Arc<Mutex<PathBuf>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
) -> std::io::Result<()> {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        // Read one request head.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if buf.len() > 16 * 1024 {
                return Ok(());
            }
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        buf.drain(..head_end);
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or_default().to_owned();
        let mut parts = request_line.split(' ');
        let method = parts.next().unwrap_or_default();
        let target = parts.next().unwrap_or_default();
        let version = parts.next().unwrap_or_default();
        let mut close = version != "HTTP/1.1";
        for line in lines {
            if let Some((name, value)) = line.split_once(':') {
                if name.trim().eq_ignore_ascii_case("connection")
                    && value.trim().eq_ignore_ascii_case("close")
                {
                    close = true;
                }
            }
        }

        let (status, body, ctype) = if method != "GET" {
            close = true;
            ("405 Method Not Allowed", Vec::new(), "text/plain")
        } else {
            let path = target.split('?').next().unwrap_or_default().to_owned();
            *hits.lock().expect("lock").entry(path.clone()).or_insert(0) += 1;
            let rel = path.trim_start_matches('/');
            let bad = rel.is_empty() || rel.split('/').any(|seg| seg == ".." || seg.is_empty());
            let file = dir.lock().expect("lock").join(rel);
            match (bad, tokio::fs::read(&file).await) {
                (false, Ok(bytes)) => {
                    let ctype = if rel.ends_with(".crl") {
                        "application/pkix-crl"
                    } else if rel.ends_with(".cer") {
                        "application/pkix-cert"
                    } else {
                        "application/octet-stream"
                    };
                    ("200 OK", bytes, ctype)
                }
                _ => ("404 Not Found", b"not found".to_vec(), "text/plain"),
            }
        };
        let mut response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{}",
            body.len(),
            if close { "Connection: close\r\n" } else { "" }
        );
        if status.starts_with("405") {
            response += "Allow: GET\r\n";
        }
        response += "\r\n";
        stream.write_all(response.as_bytes()).await?;
        stream.write_all(&body).await?;
        stream.flush().await?;
        if close {
            let _ = stream.shutdown().await;
            return Ok(());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tests: the builder works, checked by openssl
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::{openssl, openssl_ok};

    fn p(path: &Path) -> &str {
        path.to_str().expect("utf-8 path")
    }

    /// `openssl verify` output (stdout+stderr) and success.
    fn verify(pki: &OpensslPki, cert: &Path, extra: &[&str]) -> (bool, String) {
        let (root, issuing) = (pki.root_pem(), pki.issuing_pem());
        let mut args = vec!["verify"];
        args.extend_from_slice(extra);
        args.extend(["-CAfile", p(&root), "-untrusted", p(&issuing), p(cert)]);
        let out = openssl(&args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// The trimmed line after the first line that ends with `label` (`openssl cms -print`).
    fn next_line_after(text: &str, label: &str) -> String {
        let mut lines = text.lines();
        lines
            .by_ref()
            .find(|l| l.trim_end().ends_with(label))
            .unwrap_or_else(|| panic!("{label} not in\n{text}"));
        lines.next().unwrap_or_default().trim().to_owned()
    }

    fn x509_text(cert: &Path) -> String {
        openssl_ok(&["x509", "-in", p(cert), "-noout", "-text"])
    }

    fn subject_lines(cert: &Path) -> Vec<String> {
        openssl_ok(&[
            "x509",
            "-in",
            p(cert),
            "-noout",
            "-subject",
            "-nameopt",
            "utf8,show_type,sep_multiline",
        ])
        .lines()
        .skip(1)
        .map(|l| l.trim().to_owned())
        .collect()
    }

    #[test]
    fn a_fresh_leaf_verifies_and_carries_the_nca_subject_and_extensions() {
        let ocsp = "http://127.0.0.1:9/ocsp/";
        let pki = OpensslPki::new(Some("http://127.0.0.1:9/pki"), Some(ocsp));
        let iin = crate::common::valid_iin();
        let leaf = pki.leaf(&LeafSpec {
            iin: Some(iin.clone()),
            ..LeafSpec::new("alice")
        });

        let (ok, text) = verify(&pki, &leaf.cert_pem, &[]);
        assert!(ok && text.contains(": OK"), "{text}");
        // It can fail: without the intermediate there is no chain.
        let out = openssl(&["verify", "-CAfile", p(&pki.root_pem()), p(&leaf.cert_pem)]);
        assert!(!out.status.success(), "verified without the intermediate");

        assert_eq!(
            subject_lines(&leaf.cert_pem),
            vec![
                "CN=UTF8STRING:ТЕСТОВ ТЕСТ".to_owned(),
                "SN=UTF8STRING:ТЕСТОВ".to_owned(),
                format!("serialNumber=PRINTABLESTRING:IIN{iin}"),
                "C=PRINTABLESTRING:KZ".to_owned(),
                "GN=UTF8STRING:ТЕСТОВИЧ".to_owned(),
            ]
        );
        let serial = openssl_ok(&["x509", "-in", p(&leaf.cert_pem), "-noout", "-serial"]);
        assert_eq!(serial.trim(), format!("serial={}", leaf.serial_hex));
        assert_eq!(
            leaf.serial_hex.len(),
            40,
            "20-byte serial: {}",
            leaf.serial_hex
        );

        // The DER file is the same certificate.
        let from_der = openssl_ok(&[
            "x509",
            "-inform",
            "DER",
            "-in",
            p(&leaf.cert_der),
            "-noout",
            "-serial",
        ]);
        assert_eq!(from_der, serial);
        assert!(std::fs::read_to_string(&leaf.key_pem)
            .expect("key")
            .contains("PRIVATE KEY"));

        let text = x509_text(&leaf.cert_pem);
        let ku = text.find("X509v3 Key Usage: critical").expect(&text);
        let eku = text.find("X509v3 Extended Key Usage").expect(&text);
        let aki = text.find("X509v3 Authority Key Identifier").expect(&text);
        let ski = text.find("X509v3 Subject Key Identifier").expect(&text);
        let pol = text.find("X509v3 Certificate Policies").expect(&text);
        let cdp = text.find("X509v3 CRL Distribution Points").expect(&text);
        let aia = text.find("Authority Information Access").expect(&text);
        assert!(ku < eku && eku < aki && aki < ski && ski < pol && pol < cdp && cdp < aia);
        for needle in [
            "Digital Signature, Non Repudiation",
            "E-mail Protection, 1.2.398.3.3.4.1.1",
            "Policy: 1.2.398.3.3.2.3",
            "CPS: http://pki.gov.kz/cps",
            "URI:http://127.0.0.1:9/pki/issuing.crl",
            "CA Issuers - URI:http://127.0.0.1:9/pki/issuing.cer",
            "OCSP - URI:http://127.0.0.1:9/ocsp/",
        ] {
            assert!(text.contains(needle), "{needle} not in\n{text}");
        }
        assert!(!text.contains("Freshest CRL"), "{text}");

        let issuing = x509_text(&pki.issuing_pem());
        for needle in [
            "Subject: CN = OSSL TEST ISSUING, C = KZ",
            "Issuer: CN = OSSL TEST ROOT, C = KZ",
            "CA:TRUE, pathlen:0",
            "Certificate Sign, CRL Sign",
            "URI:http://127.0.0.1:9/pki/root.crl",
            "Public-Key: (2048 bit)",
        ] {
            assert!(issuing.contains(needle), "{needle} not in\n{issuing}");
        }
        assert!(
            issuing.contains("X509v3 Basic Constraints: critical"),
            "{issuing}"
        );
        let root = x509_text(&pki.root_pem());
        assert!(
            root.contains("Subject: CN = OSSL TEST ROOT, C = KZ"),
            "{root}"
        );
        assert!(
            root.contains("Issuer: CN = OSSL TEST ROOT, C = KZ"),
            "{root}"
        );
        // The DER copies and the published copies are the same certificates.
        for (der, pem) in [
            (pki.root_der(), pki.root_pem()),
            (pki.issuing_der(), pki.issuing_pem()),
            (pki.pub_dir().join("issuing.cer"), pki.issuing_pem()),
        ] {
            let a = openssl_ok(&[
                "x509",
                "-inform",
                "DER",
                "-in",
                p(&der),
                "-noout",
                "-fingerprint",
            ]);
            let b = openssl_ok(&["x509", "-in", p(&pem), "-noout", "-fingerprint"]);
            assert_eq!(a, b);
        }

        // Without CDP/OCSP: no such extensions.
        let bare = OpensslPki::new(None, None);
        let leaf = bare.leaf(&LeafSpec::new("bare"));
        let text = x509_text(&leaf.cert_pem);
        assert!(!text.contains("CRL Distribution"), "{text}");
        assert!(!text.contains("Authority Information Access"), "{text}");
        let (ok, text) = verify(&bare, &leaf.cert_pem, &[]);
        assert!(ok, "{text}");
    }

    #[test]
    fn auth_legal_rsa1024_and_ec_leaves() {
        let pki = OpensslPki::new(None, None);

        let auth = pki.leaf(&LeafSpec {
            kind: LeafKind::Auth,
            ..LeafSpec::new("auth")
        });
        let text = x509_text(&auth.cert_pem);
        assert!(
            text.contains("Digital Signature, Key Encipherment"),
            "{text}"
        );
        assert!(
            text.contains("TLS Web Client Authentication, 1.2.398.3.3.4.1.1"),
            "{text}"
        );
        assert!(!text.contains("E-mail Protection"), "{text}");
        assert!(verify(&pki, &auth.cert_pem, &[]).0);

        let legal = pki.leaf(&LeafSpec {
            bin: Some("940140000385".into()),
            org: Some("ТОО \"Сынақ/1\"".into()),
            ..LeafSpec::new("legal")
        });
        let lines = subject_lines(&legal.cert_pem);
        assert_eq!(lines.len(), 7, "{lines:?}");
        assert_eq!(lines[3], "C=PRINTABLESTRING:KZ");
        assert_eq!(lines[4], "O=UTF8STRING:ТОО \"Сынақ/1\"");
        assert_eq!(lines[5], "OU=UTF8STRING:BIN940140000385");
        assert_eq!(lines[6], "GN=UTF8STRING:ТЕСТОВИЧ");
        let text = x509_text(&legal.cert_pem);
        assert!(
            text.contains("E-mail Protection, 1.2.398.3.3.4.1.2, 1.2.398.3.3.4.1.2.1"),
            "{text}"
        );
        assert!(text.contains("Policy: 1.2.398.3.3.2.1"), "{text}");

        let no_iin = pki.leaf(&LeafSpec {
            iin: None,
            ..LeafSpec::new("noiin")
        });
        assert!(subject_lines(&no_iin.cert_pem)
            .iter()
            .all(|l| !l.starts_with("serialNumber")));

        let small = pki.leaf(&LeafSpec {
            key: LeafKey::Rsa1024,
            ..LeafSpec::new("small")
        });
        assert!(x509_text(&small.cert_pem).contains("Public-Key: (1024 bit)"));
        let (ok, text) = verify(&pki, &small.cert_pem, &[]);
        assert!(ok, "{text}");

        for (key, name, curve) in [
            (LeafKey::P256, "p256", "NIST CURVE: P-256"),
            (LeafKey::P384, "p384", "NIST CURVE: P-384"),
        ] {
            let leaf = pki.leaf(&LeafSpec {
                key,
                ..LeafSpec::new(name)
            });
            let text = x509_text(&leaf.cert_pem);
            assert!(text.contains(curve), "{text}");
            // Still signed by the RSA intermediate.
            assert!(
                text.contains("Signature Algorithm: sha256WithRSAEncryption"),
                "{text}"
            );
            let (ok, text) = verify(&pki, &leaf.cert_pem, &[]);
            assert!(ok, "{text}");
        }
    }

    #[test]
    fn expired_and_not_yet_valid_leaves_carry_the_requested_dates() {
        let pki = OpensslPki::new(None, None);
        let expired = pki.leaf(&LeafSpec {
            start: Some("20200101000000Z".into()),
            end: Some("20210101000000Z".into()),
            ..LeafSpec::new("expired")
        });
        let dates = openssl_ok(&[
            "x509",
            "-in",
            p(&expired.cert_pem),
            "-noout",
            "-startdate",
            "-enddate",
        ]);
        assert!(
            dates.contains("notBefore=Jan  1 00:00:00 2020 GMT"),
            "{dates}"
        );
        assert!(
            dates.contains("notAfter=Jan  1 00:00:00 2021 GMT"),
            "{dates}"
        );
        let (ok, text) = verify(&pki, &expired.cert_pem, &[]);
        assert!(!ok && text.contains("certificate has expired"), "{text}");
        // Valid at a time inside its period (the CAs are valid from 2015).
        let at = openssl_date_to_unix("Jul  1 00:00:00 2020 GMT").to_string();
        let (ok, text) = verify(&pki, &expired.cert_pem, &["-attime", &at]);
        assert!(ok, "{text}");

        let future = pki.leaf(&LeafSpec {
            start: Some("20990101000000Z".into()),
            end: Some("20991231000000Z".into()),
            ..LeafSpec::new("future")
        });
        let dates = openssl_ok(&[
            "x509",
            "-in",
            p(&future.cert_pem),
            "-noout",
            "-startdate",
            "-enddate",
        ]);
        assert!(
            dates.contains("notBefore=Jan  1 00:00:00 2099 GMT"),
            "{dates}"
        );
        assert!(
            dates.contains("notAfter=Dec 31 00:00:00 2099 GMT"),
            "{dates}"
        );
        let (ok, text) = verify(&pki, &future.cert_pem, &[]);
        assert!(
            !ok && text.contains("certificate is not yet valid"),
            "{text}"
        );

        // Default: from now for 365 days.
        let fresh = pki.leaf(&LeafSpec::new("fresh"));
        let dates = openssl_ok(&[
            "x509",
            "-in",
            p(&fresh.cert_pem),
            "-noout",
            "-startdate",
            "-enddate",
        ]);
        let nb = openssl_date_to_unix(
            dates
                .lines()
                .next()
                .expect("nb")
                .trim_start_matches("notBefore="),
        );
        let na = openssl_date_to_unix(
            dates
                .lines()
                .nth(1)
                .expect("na")
                .trim_start_matches("notAfter="),
        );
        assert!((nb - unix_now()).abs() < 120, "{dates}");
        assert_eq!(na - nb, 365 * 86_400, "{dates}");
    }

    #[test]
    fn date_helpers_round_trip() {
        assert_eq!(generalized_time(0), "19700101000000Z");
        assert_eq!(
            openssl_date_to_unix("Jan  1 00:00:00 2020 GMT"),
            1_577_836_800
        );
        assert_eq!(generalized_time(1_577_836_800 + 86_399), "20200101235959Z");
        assert_eq!(generalized_time(4_102_444_800), "21000101000000Z");
        assert_eq!(
            openssl_date_to_unix("Feb 29 12:34:56 2024 GMT"),
            1_709_210_096
        );
    }

    #[test]
    fn revoked_leaves_and_intermediate_show_in_the_crls() {
        let pki = OpensslPki::new(None, None);
        let bad = pki.leaf(&LeafSpec::new("bad"));
        let good = pki.leaf(&LeafSpec::new("good"));
        pki.revoke(&bad, "keyCompromise");

        let (der, pem) = pki.crl("issuing", 1);
        assert_eq!(der, pki.pub_dir().join("issuing.crl"));
        let (ok, text) = verify(&pki, &bad.cert_pem, &["-crl_check", "-CRLfile", p(&pem)]);
        assert!(!ok && text.contains("certificate revoked"), "{text}");
        let (ok, text) = verify(&pki, &good.cert_pem, &["-crl_check", "-CRLfile", p(&pem)]);
        assert!(ok && text.contains(": OK"), "{text}");

        let crl = openssl_ok(&["crl", "-inform", "DER", "-in", p(&der), "-noout", "-text"]);
        assert!(
            crl.contains(&format!("Serial Number: {}", bad.serial_hex)),
            "{crl}"
        );
        assert!(!crl.contains(&good.serial_hex), "{crl}");
        assert!(crl.contains("Key Compromise"), "{crl}");
        assert!(crl.contains("X509v3 CRL Number"), "{crl}");
        assert!(
            crl.contains("Issuer: CN = OSSL TEST ISSUING, C = KZ"),
            "{crl}"
        );
        let last = openssl_ok(&["crl", "-in", p(&pem), "-noout", "-lastupdate"]);
        let next = openssl_ok(&["crl", "-in", p(&pem), "-noout", "-nextupdate"]);
        let last = openssl_date_to_unix(last.trim().trim_start_matches("lastUpdate="));
        let next = openssl_date_to_unix(next.trim().trim_start_matches("nextUpdate="));
        assert_eq!(next - last, 3600);
        assert!((last - unix_now()).abs() < 120);

        // certificateHold goes through -crl_hold.
        let held = pki.leaf(&LeafSpec::new("held"));
        pki.revoke(&held, "certificateHold");
        let (_, pem) = pki.crl("issuing-2", 0);
        let crl = openssl_ok(&["crl", "-in", p(&pem), "-noout", "-text"]);
        assert!(crl.contains("Certificate Hold"), "{crl}");
        let (ok, text) = verify(&pki, &held.cert_pem, &["-crl_check", "-CRLfile", p(&pem)]);
        assert!(!ok, "{text}");

        // A stale CRL: nextUpdate in the past, as openssl reads it.
        let (stale, next) = pki.stale_crl("stale");
        assert!(next < unix_now());
        let printed = openssl_ok(&[
            "crl",
            "-inform",
            "DER",
            "-in",
            p(&stale),
            "-noout",
            "-nextupdate",
        ]);
        assert_eq!(
            openssl_date_to_unix(printed.trim().trim_start_matches("nextUpdate=")),
            next
        );
        let stale_pem = pki.dir.path().join("crl/stale.pem");
        let (ok, text) = verify(
            &pki,
            &good.cert_pem,
            &["-crl_check", "-CRLfile", p(&stale_pem)],
        );
        assert!(!ok && text.contains("CRL has expired"), "{text}");

        // The root's CRL: first the intermediate is fine, then revoked.
        let root_crl = pki.root_crl();
        let root_pem = pki.dir.path().join("crl/root.pem");
        let (_, issuing_pem) = pki.crl("issuing", 24);
        let both = pki.dir.path().join("both.pem");
        let cat = |out: &Path| {
            let mut all = std::fs::read(&root_pem).expect("root crl");
            all.extend(std::fs::read(&issuing_pem).expect("crl"));
            std::fs::write(out, all).expect("write");
        };
        cat(&both);
        let (ok, text) = verify(
            &pki,
            &good.cert_pem,
            &["-crl_check_all", "-CRLfile", p(&both)],
        );
        assert!(ok, "{text}");
        pki.revoke_issuing("cACompromise");
        let root_crl2 = pki.root_crl();
        assert_eq!(root_crl, root_crl2);
        cat(&both);
        let (ok, text) = verify(
            &pki,
            &good.cert_pem,
            &["-crl_check_all", "-CRLfile", p(&both)],
        );
        assert!(!ok && text.contains("certificate revoked"), "{text}");
        let crl = openssl_ok(&[
            "crl",
            "-inform",
            "DER",
            "-in",
            p(&root_crl2),
            "-noout",
            "-text",
        ]);
        assert!(crl.contains("CA Compromise"), "{crl}");
        assert!(crl.contains("Issuer: CN = OSSL TEST ROOT, C = KZ"), "{crl}");
    }

    #[test]
    fn cms_signatures_verify_with_openssl() {
        let pki = OpensslPki::new(None, None);
        let alice = pki.leaf(&LeafSpec::new("alice"));
        let bob = pki.leaf(&LeafSpec {
            key: LeafKey::P256,
            ..LeafSpec::new("bob")
        });
        let content = "{\"license\":\"заявление\"}\r\n".as_bytes();
        let content_file = pki.dir.path().join("content.bin");
        std::fs::write(&content_file, content).expect("write");
        let bundle = pki.ca_bundle_pem();

        let cms_verify = |sig: &Path, extra: &[&str]| -> (bool, String, Vec<u8>) {
            let mut args = vec![
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                p(sig),
                "-CAfile",
                p(&bundle),
            ];
            args.extend_from_slice(extra);
            let out = openssl(&args);
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
                out.stdout,
            )
        };
        let print =
            |sig: &Path| openssl_ok(&["cms", "-cmsout", "-print", "-inform", "DER", "-in", p(sig)]);

        // Attached: openssl gets the content back.
        let sig = pki.sign(&alice, content, &SignOpts::default());
        let (ok, err, out) = cms_verify(&sig, &[]);
        assert!(ok && err.contains("Verification successful"), "{err}");
        assert_eq!(out, content);
        let text = print(&sig);
        assert!(text.contains("messageDigest"), "{text}");
        assert_ne!(next_line_after(&text, "signedAttrs:"), "<ABSENT>", "{text}");
        assert_ne!(
            next_line_after(&text, "certificates:"),
            "<ABSENT>",
            "{text}"
        );
        assert!(text.contains("sha256"), "{text}");

        // Detached: needs the content; the wrong content fails.
        let sig = pki.sign(
            &alice,
            content,
            &SignOpts {
                detached: true,
                ..SignOpts::default()
            },
        );
        let (ok, err, _) = cms_verify(&sig, &["-content", p(&content_file)]);
        assert!(ok, "{err}");
        assert!(
            !cms_verify(&sig, &[]).0,
            "detached verified without content"
        );
        let other = pki.dir.path().join("other.bin");
        std::fs::write(&other, b"something else").expect("write");
        assert!(
            !cms_verify(&sig, &["-content", p(&other)]).0,
            "wrong content verified"
        );
        assert!(print(&sig).contains("eContent: <ABSENT>"));

        // Digests.
        for (leaf, md, oid_name) in [(&alice, "sha1", "sha1"), (&bob, "sha384", "sha384")] {
            let sig = pki.sign(
                leaf,
                content,
                &SignOpts {
                    md,
                    ..SignOpts::default()
                },
            );
            let (ok, err, _) = cms_verify(&sig, &[]);
            assert!(ok, "{md}: {err}");
            let text = print(&sig);
            assert!(text.contains(&format!("algorithm: {oid_name}")), "{text}");
        }

        // No certificates: verifies only with the signer's certificate supplied.
        let sig = pki.sign(
            &alice,
            content,
            &SignOpts {
                with_certs: false,
                ..SignOpts::default()
            },
        );
        assert!(
            !cms_verify(&sig, &[]).0,
            "verified without the signer certificate"
        );
        let (ok, err, _) = cms_verify(&sig, &["-certfile", p(&alice.cert_pem)]);
        assert!(ok, "{err}");
        let text = print(&sig);
        assert_eq!(
            next_line_after(&text, "certificates:"),
            "<ABSENT>",
            "{text}"
        );

        // No signed attributes.
        let sig = pki.sign(
            &alice,
            content,
            &SignOpts {
                with_attrs: false,
                ..SignOpts::default()
            },
        );
        let (ok, err, _) = cms_verify(&sig, &[]);
        assert!(ok, "{err}");
        let text = print(&sig);
        assert_eq!(next_line_after(&text, "signedAttrs:"), "<ABSENT>", "{text}");
        assert!(!text.contains("messageDigest"), "{text}");

        // Two signers.
        let sig = pki.sign_two(&alice, &bob, content);
        let (ok, err, out) = cms_verify(&sig, &[]);
        assert!(ok, "{err}");
        assert_eq!(out, content);
        let text = print(&sig);
        assert_eq!(text.matches("signatureAlgorithm:").count(), 2, "{text}");
        let signers = pki.dir.path().join("signers.pem");
        openssl_ok(&[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            p(&sig),
            "-CAfile",
            p(&bundle),
            "-signer",
            p(&signers),
            "-out",
            "/dev/null",
        ]);
        let signers = std::fs::read_to_string(&signers).expect("signers");
        assert_eq!(signers.matches("BEGIN CERTIFICATE").count(), 2, "{signers}");

        // A tampered attached signature fails.
        let sig = pki.sign(&alice, content, &SignOpts::default());
        let mut bytes = std::fs::read(&sig).expect("sig");
        let at = bytes
            .windows(content.len())
            .position(|w| w == content)
            .expect("content inside");
        bytes[at] ^= 1;
        let tampered = pki.dir.path().join("tampered.p7s");
        std::fs::write(&tampered, bytes).expect("write");
        assert!(!cms_verify(&tampered, &[]).0, "tampered content verified");
    }

    fn ocsp_status(pki: &OpensslPki, leaf: &Leaf, url: &str) -> String {
        let (issuing, root) = (pki.issuing_pem(), pki.root_pem());
        let out = openssl(&[
            "ocsp",
            "-issuer",
            p(&issuing),
            "-cert",
            p(&leaf.cert_pem),
            "-url",
            url,
            "-CAfile",
            p(&root),
            "-timeout",
            "10",
        ]);
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    #[test]
    fn ocsp_responder_answers_good_then_revoked() {
        let url = free_local_url();
        let pki = OpensslPki::new(None, Some(&url));
        let alice = pki.leaf(&LeafSpec::new("alice"));
        let responder = pki.ocsp_responder();
        assert_eq!(responder.url, url);
        let text = x509_text(&alice.cert_pem);
        assert!(text.contains(&format!("OCSP - URI:{url}")), "{text}");
        let signer = x509_text(&responder.signer_pem);
        assert!(signer.contains("OCSP Signing"), "{signer}");
        assert!(signer.contains("OCSP No Check"), "{signer}");

        let name = p(&alice.cert_pem).to_owned();
        let out = ocsp_status(&pki, &alice, &url);
        assert!(out.contains("Response verify OK"), "{out}");
        assert!(out.contains(&format!("{name}: good")), "{out}");

        // Issued after the responder started: known (restart picked it up).
        let bob = pki.leaf(&LeafSpec::new("bob"));
        let out = ocsp_status(&pki, &bob, &url);
        assert!(out.contains(": good"), "{out}");

        pki.revoke(&alice, "keyCompromise");
        let out = ocsp_status(&pki, &alice, &url);
        assert!(out.contains("Response verify OK"), "{out}");
        assert!(out.contains(&format!("{name}: revoked")), "{out}");
        assert!(out.contains("Reason: keyCompromise"), "{out}");
        let out = ocsp_status(&pki, &bob, &url);
        assert!(out.contains(": good"), "{out}");

        // A certificate of another CA under the same issuer name is unknown to it.
        let stranger = OpensslPki::new(None, None);
        let carol = stranger.leaf(&LeafSpec::new("carol"));
        let out = ocsp_status(&pki, &carol, &url);
        assert!(!out.contains(": good"), "{out}");

        // Dropped: nothing listens any more.
        let port = responder.port;
        drop(responder);
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            assert!(
                Instant::now() < deadline,
                "responder still listening after drop"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    #[test]
    fn ocsp_responder_on_a_free_port_without_a_url_in_the_certificates() {
        let pki = OpensslPki::new(None, None);
        let leaf = pki.leaf(&LeafSpec::new("leaf"));
        let responder = pki.ocsp_responder();
        assert!(
            responder.url.starts_with("http://127.0.0.1:"),
            "{}",
            responder.url
        );
        let out = ocsp_status(&pki, &leaf, &responder.url);
        assert!(out.contains(": good"), "{out}");
    }

    #[test]
    fn ocsp_responder_waits_for_its_port_to_be_released() {
        let url = free_local_url();
        let port = local_port(&url).expect("port");
        // Held like a previous responder would hold it ([::], dual-stack, as openssl binds).
        let blocker = StdListener::bind(("::", port)).expect("bind [::]");
        let pki = OpensslPki::new(None, Some(&url));
        let leaf = pki.leaf(&LeafSpec::new("leaf"));
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(700));
            drop(blocker);
        });
        let started = Instant::now();
        let responder = pki.ocsp_responder();
        assert!(started.elapsed() >= Duration::from_millis(600));
        release.join().expect("join");
        let out = ocsp_status(&pki, &leaf, &responder.url);
        assert!(out.contains(": good"), "{out}");
    }

    async fn get(url: &str, path: &str, close: bool) -> (u16, Vec<u8>) {
        let addr = url.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let connection = if close { "Connection: close\r\n" } else { "" };
        stream
            .write_all(
                format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{connection}\r\n").as_bytes(),
            )
            .await
            .expect("write");
        read_response(&mut stream).await
    }

    async fn read_response(stream: &mut tokio::net::TcpStream) -> (u16, Vec<u8>) {
        let mut buf = Vec::new();
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "connection closed mid-head");
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let status: u16 = head[9..12].parse().expect("status");
        let len: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().to_owned())
            })
            .expect("content-length")
            .parse()
            .expect("length");
        let mut body = buf[head_end..].to_vec();
        while body.len() < len {
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "connection closed mid-body");
            body.extend_from_slice(&chunk[..n]);
        }
        (status, body)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn file_server_serves_files_404s_and_counts_hits() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("issuing.crl"), b"\x30\x03crl").expect("write");
        let server = FileServer::start(dir.path().to_path_buf()).await;
        let url = server.url();
        assert!(
            url.starts_with("http://127.0.0.1:") && !url.ends_with('/'),
            "{url}"
        );

        assert_eq!(
            get(&url, "/issuing.crl", true).await,
            (200, b"\x30\x03crl".to_vec())
        );
        assert_eq!(get(&url, "/missing.crl", true).await.0, 404);
        assert_eq!(get(&url, "/../etc/passwd", true).await.0, 404);
        assert_eq!(server.hits("/issuing.crl"), 1);
        assert_eq!(server.hits("issuing.crl"), 1);
        assert_eq!(server.hits("/missing.crl"), 1);
        assert_eq!(server.hits("/never.crl"), 0);

        // Keep-alive: two requests on one connection.
        let addr = url.trim_start_matches("http://").to_owned();
        let mut stream = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        for _ in 0..2 {
            stream
                .write_all(format!("GET /issuing.crl HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
                .await
                .expect("write");
            assert_eq!(read_response(&mut stream).await.0, 200);
        }
        assert_eq!(server.hits("/issuing.crl"), 3);

        // Not GET.
        let mut stream = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        stream
            .write_all(b"POST /issuing.crl HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
            .await
            .expect("write");
        assert_eq!(read_response(&mut stream).await.0, 405);
        assert_eq!(server.hits("/issuing.crl"), 3);

        // set_dir: the PKI's published files, the CRL replaced in place.
        let pki = OpensslPki::new(Some(&url), None);
        server.set_dir(pki.pub_dir());
        pki.crl("issuing", 1);
        let (status, body) = get(&url, "/issuing.crl", false).await;
        assert_eq!(status, 200);
        assert_eq!(
            body,
            std::fs::read(pki.pub_dir().join("issuing.crl")).expect("crl")
        );
        let (status, cer) = get(&url, "/issuing.cer", false).await;
        assert_eq!(status, 200);
        assert_eq!(cer, std::fs::read(pki.issuing_der()).expect("der"));
        assert_eq!(server.hits("/issuing.crl"), 4);

        drop(server);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            tokio::net::TcpStream::connect(&addr).await.is_err(),
            "still serving"
        );
    }
}
