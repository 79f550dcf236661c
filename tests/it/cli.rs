//! The `qoltanba` binary as a user runs it: output, files, and the exit-code contract
//! (0 ok, 1 failure, 2 invalid input/usage, 3 not found, 4 conflict, 5 wrong CA passphrase).

use std::path::{Path, PathBuf};
use std::process::Command;

use der::{Decode, Encode};
use x509_cert::Certificate;

use crate::common::{openssl, openssl_ok, valid_iin, P12_PASSWORD};
use qoltanba::pki::name::attribute;

const CA_PASSPHRASE: &str = "cli test CA passphrase 7d1f";
const NCA_TEST_IIN: &str = "123456789011";

/// What a run of the binary gave.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn expect_code(self, code: i32, what: &str) -> Run {
        assert_eq!(
            self.code, code,
            "{what}: exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// The `error: …` line(s) the CLI prints on failure (logs may precede them).
    fn error(&self) -> String {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("error"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// One user's working directory, data directory and CA passphrase.
struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        Cli {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// A fresh directory with the PKI already created.
    fn initialised() -> Cli {
        let cli = Cli::new();
        cli.run(&["pki", "init"]).expect_code(0, "pki init");
        cli
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, passphrase: &str) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_qoltanba"));
        command
            .current_dir(self.dir.path())
            .env("QOLTANBA_DATA_DIR", self.path("data"))
            .env("QOLTANBA_CA_PASSPHRASE", passphrase)
            .env("QOLTANBA_LOG", "warn")
            .env("NO_COLOR", "1");
        for name in [
            "QOLTANBA_DATABASE_URL",
            "QOLTANBA_CONFIG",
            "QOLTANBA_CA_PASSPHRASE_FILE",
            "QOLTANBA_PKI_DIR",
            "QOLTANBA_PUBLIC_URL",
            "QOLTANBA_LISTEN",
            "QOLTANBA_LOG_FORMAT",
        ] {
            command.env_remove(name);
        }
        command
    }

    fn run_with(&self, passphrase: &str, args: &[&str]) -> Run {
        let out = self
            .command(passphrase)
            .args(args)
            .output()
            .expect("run the qoltanba binary");
        Run {
            code: out.status.code().expect("exited, not killed"),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_with(CA_PASSPHRASE, args)
    }

    /// The serials `pki list` shows.
    fn serials(&self) -> Vec<String> {
        let run = self.run(&["pki", "list"]).expect_code(0, "pki list");
        run.stdout
            .lines()
            .skip(1)
            .map(|l| {
                l.split_whitespace()
                    .next()
                    .expect("serial column")
                    .to_owned()
            })
            .collect()
    }

    /// Writes the PKCS#12 password file; returns its path.
    fn password_file(&self) -> String {
        let path = self.path("pw");
        std::fs::write(&path, format!("{P12_PASSWORD}\n")).expect("write password file");
        s(&path)
    }

    /// `pki issue` for an individual with a valid IIN plus `extra`; returns the run.
    fn issue(&self, out: &str, extra: &[&str]) -> Run {
        let pw = self.password_file();
        let iin = valid_iin();
        let mut args = vec![
            "pki",
            "issue",
            "--profile",
            "individual-sign",
            "--iin",
            &iin,
            "--surname",
            "ТЕСТОВ",
            "--given-name",
            "ТЕСТ",
            "--patronymic",
            "ТЕСТОВИЧ",
            "--out",
            out,
            "--password-file",
            &pw,
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// Issues a quick (P-256) certificate; returns its serial.
    fn issue_serial(&self, out: &str) -> String {
        let run = self
            .issue(out, &["--key", "p256"])
            .expect_code(0, "pki issue");
        serial_line(&run.stdout)
    }
}

fn s(path: &Path) -> String {
    path.to_str().expect("utf-8 path").to_owned()
}

/// The serial from `pki issue`'s "serial     …" line.
fn serial_line(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("serial"))
        .map(|rest| rest.trim().to_owned())
        .unwrap_or_else(|| panic!("no serial line in:\n{stdout}"))
}

#[test]
fn version_and_help_exit_0_and_unknown_commands_exit_2() {
    let cli = Cli::new();
    let run = cli.run(&["--version"]).expect_code(0, "--version");
    assert_eq!(
        run.stdout.trim(),
        format!("qoltanba {}", env!("CARGO_PKG_VERSION"))
    );
    let run = cli.run(&["pki", "--help"]).expect_code(0, "pki --help");
    for command in ["init", "issue", "revoke", "unhold", "list", "crl", "ca"] {
        assert!(
            run.stdout.contains(command),
            "{command} missing:\n{}",
            run.stdout
        );
    }
    let run = cli
        .run(&["pki", "frobnicate"])
        .expect_code(2, "unknown subcommand");
    assert!(run.stderr.contains("frobnicate"), "{}", run.stderr);
    assert!(
        !cli.path("data").exists(),
        "usage errors must not touch the data directory"
    );
}

#[test]
fn init_creates_once_and_ca_writes_issuing_then_root() {
    let cli = Cli::new();
    let first = cli.run(&["pki", "init"]).expect_code(0, "first init");
    assert!(
        first.stdout.contains("test PKI created"),
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("qoltanba_rsa_test"),
        "{}",
        first.stdout
    );
    assert!(cli.path("data").is_dir());
    let second = cli.run(&["pki", "init"]).expect_code(0, "second init");
    assert!(
        second.stdout.contains("already present"),
        "{}",
        second.stdout
    );
    for run in [&first, &second] {
        assert!(!run.stdout.contains(CA_PASSPHRASE) && !run.stderr.contains(CA_PASSPHRASE));
    }

    let ca = cli.path("ca.pem");
    cli.run(&["pki", "ca", "--out", &s(&ca)])
        .expect_code(0, "pki ca");
    let pem = std::fs::read(&ca).expect("ca.pem written");
    let chain = Certificate::load_pem_chain(&pem).expect("PEM certificates");
    assert_eq!(chain.len(), 2, "issuing CA and root");
    let (issuing, root) = (&chain[0].tbs_certificate, &chain[1].tbs_certificate);
    assert_eq!(
        attribute(&issuing.subject, "CN").as_deref(),
        Some("ҰКО ҚОЛТАҢБА (RSA) TEST")
    );
    assert_eq!(
        attribute(&root.subject, "CN").as_deref(),
        Some("ҚОЛТАҢБА ТҮБІР (RSA) TEST")
    );
    assert_eq!(
        issuing.issuer, root.subject,
        "the root issued the issuing CA"
    );
    assert_eq!(root.issuer, root.subject, "the root is self-signed");

    // OpenSSL agrees: the first certificate in the file is the issuing CA, and it verifies
    // against the root.
    let subject = openssl_ok(&[
        "x509",
        "-in",
        &s(&ca),
        "-noout",
        "-subject",
        "-nameopt",
        "utf8",
    ]);
    assert!(subject.contains("ҰКО ҚОЛТАҢБА (RSA) TEST"), "{subject}");
    let root_pem = cli.path("root.pem");
    std::fs::write(
        &root_pem,
        qoltanba::pki::certificate::pem(&chain[1].to_der().expect("der")).expect("pem"),
    )
    .expect("write");
    let verified = openssl_ok(&["verify", "-CAfile", &s(&root_pem), &s(&ca)]);
    assert!(verified.contains("OK"), "{verified}");
}

#[test]
fn issue_writes_a_private_pkcs12_that_openssl_opens() {
    let cli = Cli::initialised();
    let pw = cli.password_file();
    let p12 = cli.path("x.p12");
    let pem = cli.path("x.pem");
    let run = cli
        .issue(&s(&p12), &["--cert-out", &s(&pem)])
        .expect_code(0, "pki issue");
    let serial = serial_line(&run.stdout);
    assert!(
        run.stdout.contains(&format!("IIN{}", valid_iin())),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("individual-sign"), "{}", run.stdout);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&p12).expect("x.p12").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the key store is private: {mode:o}");
    }

    let pw_arg = format!("file:{pw}");
    let certs = openssl_ok(&["pkcs12", "-in", &s(&p12), "-passin", &pw_arg, "-nokeys"]);
    assert_eq!(
        certs.matches("BEGIN CERTIFICATE").count(),
        3,
        "leaf + chain:\n{certs}"
    );
    let key = openssl_ok(&[
        "pkcs12",
        "-in",
        &s(&p12),
        "-passin",
        &pw_arg,
        "-nocerts",
        "-nodes",
    ]);
    assert!(key.contains("BEGIN PRIVATE KEY"), "{key}");
    let wrong = openssl(&[
        "pkcs12",
        "-in",
        &s(&p12),
        "-passin",
        "pass:wrong",
        "-nokeys",
    ]);
    assert!(!wrong.status.success(), "a wrong password must not open it");

    // --cert-out holds the same certificate, and it is in the list.
    let x509 = openssl_ok(&["x509", "-in", &s(&pem), "-noout", "-serial"]);
    assert!(
        x509.contains(&format!("serial={serial}")),
        "{x509} vs {serial}"
    );
    assert!(cli.serials().contains(&serial));

    // --legacy: what real NCA key stores are; OpenSSL 3 needs -legacy for it.
    let legacy = cli.path("legacy.p12");
    cli.issue(&s(&legacy), &["--legacy", "--key", "p256"])
        .expect_code(0, "pki issue --legacy");
    let certs = openssl_ok(&[
        "pkcs12",
        "-legacy",
        "-in",
        &s(&legacy),
        "-passin",
        &pw_arg,
        "-nokeys",
    ]);
    assert!(certs.contains("BEGIN CERTIFICATE"), "{certs}");

    // Other key types.
    for (key, marker) in [("p256", "id-ecPublicKey"), ("ed25519", "ED25519")] {
        let out = cli.path(&format!("{key}.p12"));
        let cert = cli.path(&format!("{key}.pem"));
        cli.issue(&s(&out), &["--key", key, "--cert-out", &s(&cert)])
            .expect_code(0, key);
        let text = openssl_ok(&["x509", "-in", &s(&cert), "-noout", "-text"]);
        assert!(text.contains(marker), "{key}: {text}");
        openssl_ok(&["pkcs12", "-in", &s(&out), "-passin", &pw_arg, "-nokeys"]);
    }

    // NCA's test IIN goes through with the flag.
    let nca = cli.path("nca.p12");
    let pw2 = cli.password_file();
    let run = cli
        .run(&[
            "pki",
            "issue",
            "--profile",
            "individual-sign",
            "--iin",
            NCA_TEST_IIN,
            "--allow-invalid-check-digit",
            "--surname",
            "ТЕСТОВ",
            "--given-name",
            "ТЕСТ",
            "--key",
            "p256",
            "--out",
            &s(&nca),
            "--password-file",
            &pw2,
        ])
        .expect_code(0, "NCA test IIN with the flag");
    assert!(run.stdout.contains("IIN123456789011"), "{}", run.stdout);
}

#[test]
fn bad_issue_inputs_exit_2_and_leave_nothing_behind() {
    let cli = Cli::initialised();
    let before = cli.serials();
    let pw = cli.password_file();
    let empty_pw = cli.path("empty-pw");
    std::fs::write(&empty_pw, "\n").expect("write");
    let missing_pw = s(&cli.path("no-such-pw"));
    let mut wrong_check = valid_iin().into_bytes();
    wrong_check[11] = b'0' + (wrong_check[11] - b'0' + 1) % 10;
    let wrong_check = String::from_utf8(wrong_check).expect("ascii");
    let iin = valid_iin();
    let out = s(&cli.path("out.p12"));
    let cert_out = s(&cli.path("out.pem"));

    let base = |profile: &str, iin: &str| -> Vec<String> {
        [
            "pki",
            "issue",
            "--profile",
            profile,
            "--iin",
            iin,
            "--surname",
            "ТЕСТОВ",
            "--given-name",
            "ТЕСТ",
            "--out",
            &out,
            "--cert-out",
            &cert_out,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let plus = |mut args: Vec<String>, extra: &[&str]| -> Vec<String> {
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        args
    };
    let cases: Vec<(&str, Vec<String>, Vec<&str>)> = vec![
        (
            "unknown profile",
            plus(base("nobody-sign", &iin), &["--password-file", &pw]),
            vec!["unknown profile", "nobody-sign", "individual-sign"],
        ),
        (
            "malformed IIN",
            plus(
                base("individual-sign", "90051730123"),
                &["--password-file", &pw],
            ),
            vec!["IIN", "12 digits"],
        ),
        (
            "IIN with a letter",
            plus(
                base("individual-sign", "9005173O1234"),
                &["--password-file", &pw],
            ),
            vec!["IIN", "only digits"],
        ),
        (
            "wrong check digit",
            plus(
                base("individual-sign", &wrong_check),
                &["--password-file", &pw],
            ),
            vec![&wrong_check, "check digit", "--allow-invalid-check-digit"],
        ),
        (
            "NCA's test IIN without the flag",
            plus(
                base("individual-sign", NCA_TEST_IIN),
                &["--password-file", &pw],
            ),
            vec!["check digit", "--allow-invalid-check-digit"],
        ),
        (
            "missing --password-file",
            base("individual-sign", &iin),
            vec!["--password-file"],
        ),
        (
            "empty password file",
            plus(
                base("individual-sign", &iin),
                &["--password-file", &s(&empty_pw)],
            ),
            vec!["password file", "is empty"],
        ),
        (
            "nonexistent password file",
            plus(
                base("individual-sign", &iin),
                &["--password-file", &missing_pw],
            ),
            vec!["cannot read the password file", "no-such-pw"],
        ),
        (
            "--key rsa1024",
            plus(
                base("individual-sign", &iin),
                &["--password-file", &pw, "--key", "rsa1024"],
            ),
            vec!["rsa1024", "rsa2048"],
        ),
        (
            "--days 0",
            plus(
                base("individual-sign", &iin),
                &["--password-file", &pw, "--days", "0"],
            ),
            vec!["days must be between 1 and 3650"],
        ),
        (
            "--days 99999",
            plus(
                base("individual-sign", &iin),
                &["--password-file", &pw, "--days", "99999"],
            ),
            vec!["days must be between 1 and 3650"],
        ),
        (
            "a BIN for an individual",
            plus(
                base("individual-sign", &iin),
                &["--password-file", &pw, "--bin", "940140000385"],
            ),
            vec!["no place for a BIN"],
        ),
        (
            "legal profile without BIN and org",
            plus(base("legal-head-sign", &iin), &["--password-file", &pw]),
            vec!["requires a BIN", "org"],
        ),
    ];
    for (what, args, words) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = cli.run(&args).expect_code(2, what);
        for word in words {
            assert!(
                run.stderr.contains(word),
                "{what}: stderr should mention {word:?}:\n{}",
                run.stderr
            );
        }
        assert!(
            !run.stderr.contains(P12_PASSWORD),
            "{what}: password echoed"
        );
        assert!(!Path::new(&out).exists(), "{what}: left {out} behind");
        assert!(
            !Path::new(&cert_out).exists(),
            "{what}: left {cert_out} behind"
        );
    }

    // --out that already exists: refused, and the file is untouched.
    let existing = cli.path("precious.p12");
    std::fs::write(&existing, b"do not overwrite").expect("write");
    let run = cli
        .issue(&s(&existing), &["--key", "p256"])
        .expect_code(2, "existing --out");
    assert!(run.error().contains("already exists"), "{}", run.stderr);
    assert_eq!(std::fs::read(&existing).expect("read"), b"do not overwrite");

    // --cert-out that already exists: refused, untouched, and --out is not left behind.
    std::fs::write(&cert_out, b"keep me").expect("write");
    let run = cli
        .issue(&out, &["--key", "p256", "--cert-out", &cert_out])
        .expect_code(2, "existing --cert-out");
    assert!(run.error().contains("already exists"), "{}", run.stderr);
    assert_eq!(std::fs::read(&cert_out).expect("read"), b"keep me");
    assert!(!Path::new(&out).exists(), "the key store was left behind");

    assert_eq!(
        cli.serials(),
        before,
        "a refused request issued a certificate"
    );
}

#[test]
fn revoke_and_unhold_report_outcomes_by_exit_code() {
    let cli = Cli::initialised();
    let a = cli.issue_serial(&s(&cli.path("a.p12")));
    let b = cli.issue_serial(&s(&cli.path("b.p12")));

    let run = cli
        .run(&["pki", "revoke", "--serial", &a, "--reason", "keyCompromise"])
        .expect_code(0, "revoke");
    assert!(
        run.stdout.contains(&a) && run.stdout.contains("revoked"),
        "{}",
        run.stdout
    );
    let run = cli
        .run(&["pki", "revoke", "--serial", &a, "--reason", "keyCompromise"])
        .expect_code(4, "revoke again");
    assert!(run.error().contains("already revoked"), "{}", run.stderr);
    // The serial as people type it: lower case with colons.
    let colons = a
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).expect("ascii").to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(":");
    cli.run(&["pki", "revoke", "--serial", &colons])
        .expect_code(4, "revoke again, typed differently");

    let unknown = "7F".repeat(20);
    let run = cli
        .run(&[
            "pki",
            "revoke",
            "--serial",
            &unknown,
            "--reason",
            "keyCompromise",
        ])
        .expect_code(3, "unknown serial");
    assert!(run.error().contains(&unknown), "{}", run.stderr);
    let run = cli
        .run(&["pki", "revoke", "--serial", &b, "--reason", "stolen"])
        .expect_code(2, "bad reason");
    assert!(run.error().contains("stolen") && run.error().contains("keyCompromise"));
    cli.run(&["pki", "revoke", "--serial", "not-hex"])
        .expect_code(2, "non-hex serial");
    cli.run(&["pki", "unhold", "--serial", &unknown])
        .expect_code(3, "unhold unknown");

    // b is still good: unhold → conflict.
    let run = cli
        .run(&["pki", "unhold", "--serial", &b])
        .expect_code(4, "unhold a good certificate");
    assert!(run.error().contains("not on hold"), "{}", run.stderr);
    let run = cli
        .run(&[
            "pki",
            "revoke",
            "--serial",
            &b,
            "--reason",
            "certificateHold",
        ])
        .expect_code(0, "hold");
    assert!(run.stdout.contains("hold"), "{}", run.stdout);
    let list = cli.run(&["pki", "list"]).expect_code(0, "list");
    let status_of = |serial: &str, list: &str| -> String {
        list.lines()
            .find(|l| l.starts_with(serial))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or_else(|| panic!("{serial} not listed:\n{list}"))
            .to_owned()
    };
    assert_eq!(status_of(&a, &list.stdout), "revoked");
    assert_eq!(status_of(&b, &list.stdout), "hold");
    let run = cli
        .run(&["pki", "unhold", "--serial", &b])
        .expect_code(0, "unhold");
    assert!(run.stdout.contains("good"), "{}", run.stdout);
    cli.run(&["pki", "unhold", "--serial", &b])
        .expect_code(4, "unhold twice");
    cli.run(&["pki", "unhold", "--serial", &a])
        .expect_code(4, "unhold a revoked certificate");
    let list = cli.run(&["pki", "list"]).expect_code(0, "list");
    assert_eq!(status_of(&b, &list.stdout), "good");
    assert_eq!(status_of(&a, &list.stdout), "revoked");
}

#[test]
fn crl_command_writes_full_delta_and_pem_crls() {
    let cli = Cli::initialised();
    let serial = cli.issue_serial(&s(&cli.path("a.p12")));
    let kept = cli.issue_serial(&s(&cli.path("b.p12")));
    cli.run(&[
        "pki",
        "revoke",
        "--serial",
        &serial,
        "--reason",
        "keyCompromise",
    ])
    .expect_code(0, "revoke");
    let ca = cli.path("ca.pem");
    cli.run(&["pki", "ca", "--out", &s(&ca)])
        .expect_code(0, "ca");

    let full = cli.path("c.crl");
    cli.run(&["pki", "crl", "--out", &s(&full)])
        .expect_code(0, "crl");
    let text = openssl_ok(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        &s(&full),
        "-noout",
        "-text",
        "-CAfile",
        &s(&ca),
    ]);
    assert!(text.contains("verify OK"), "{text}");
    assert!(text.contains(&format!("Serial Number: {serial}")), "{text}");
    assert!(text.contains("Key Compromise"), "{text}");
    assert!(
        !text.contains(&kept),
        "a good certificate is listed: {text}"
    );
    assert!(!text.contains("Delta CRL Indicator"), "{text}");

    let delta = cli.path("d.crl");
    cli.run(&["pki", "crl", "--delta", "--out", &s(&delta)])
        .expect_code(0, "crl --delta");
    let text = openssl_ok(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        &s(&delta),
        "-noout",
        "-text",
    ]);
    assert!(text.contains("Delta CRL Indicator"), "{text}");
    assert!(text.contains(&serial), "{text}");

    let pem = cli.path("c.pem");
    cli.run(&["pki", "crl", "--pem", "--out", &s(&pem)])
        .expect_code(0, "crl --pem");
    let pem_text = std::fs::read_to_string(&pem).expect("read");
    assert!(
        pem_text.starts_with("-----BEGIN X509 CRL-----"),
        "{pem_text}"
    );
    let text = openssl_ok(&["crl", "-in", &s(&pem), "-noout", "-text"]);
    assert!(text.contains(&serial), "{text}");
    let from_pem = der::pem::decode_vec(pem_text.as_bytes()).expect("PEM").1;
    x509_cert::crl::CertificateList::from_der(&from_pem).expect("a CRL inside");

    // The root's CRL, by id; an unknown CA is not found.
    let root_crl = cli.path("root.crl");
    cli.run(&[
        "pki",
        "crl",
        "--ca",
        "qoltanba_root_rsa_test",
        "--out",
        &s(&root_crl),
    ])
    .expect_code(0, "root CRL");
    let root_list =
        x509_cert::crl::CertificateList::from_der(&std::fs::read(&root_crl).expect("read"))
            .expect("a DER CRL");
    let chain = Certificate::load_pem_chain(&std::fs::read(&ca).expect("read")).expect("chain");
    assert_eq!(
        root_list.tbs_cert_list.issuer,
        chain[1].tbs_certificate.subject
    );
    assert!(root_list
        .tbs_cert_list
        .revoked_certificates
        .unwrap_or_default()
        .is_empty());
    let run = cli
        .run(&[
            "pki",
            "crl",
            "--ca",
            "nobody",
            "--out",
            &s(&cli.path("n.crl")),
        ])
        .expect_code(3, "unknown CA");
    assert!(run.error().contains("nobody"), "{}", run.stderr);
    assert!(!cli.path("n.crl").exists());
}

#[test]
fn list_shows_serials_and_a_wrong_passphrase_exits_5_without_echoing_it() {
    let cli = Cli::initialised();
    let serial = cli.issue_serial(&s(&cli.path("a.p12")));
    let list = cli.run(&["pki", "list"]).expect_code(0, "list");
    assert!(list
        .stdout
        .lines()
        .next()
        .expect("header")
        .starts_with("serial"));
    assert!(list.stdout.contains(&serial), "{}", list.stdout);
    assert!(list.stdout.contains("ocsp-responder"), "{}", list.stdout);
    assert_eq!(cli.serials().len(), 2, "{}", list.stdout);
    cli.run(&["pki", "list", "--limit", "0"])
        .expect_code(2, "list --limit 0");

    let wrong = "not the passphrase 91c3";
    for args in [
        vec!["pki", "list"],
        vec!["pki", "init"],
        vec!["pki", "revoke", "--serial", &serial],
    ] {
        let run = cli
            .run_with(wrong, &args)
            .expect_code(5, "wrong passphrase");
        let error = run.error();
        assert!(error.contains("passphrase"), "{args:?}: {}", run.stderr);
        assert!(
            error.contains("QOLTANBA_CA_PASSPHRASE"),
            "{args:?}: {}",
            run.stderr
        );
        for secret in [wrong, CA_PASSPHRASE] {
            assert!(
                !run.stderr.contains(secret) && !run.stdout.contains(secret),
                "{args:?}: a passphrase was printed"
            );
        }
    }
    // A wrong passphrase does not leave a half-made key store behind either.
    let out = cli.path("b.p12");
    cli.run_with(wrong, &[])
        .expect_code(2, "no command is a usage error");
    let pw = cli.password_file();
    let iin = valid_iin();
    cli.run_with(
        wrong,
        &[
            "pki",
            "issue",
            "--profile",
            "individual-sign",
            "--iin",
            &iin,
            "--surname",
            "А",
            "--given-name",
            "Б",
            "--out",
            &s(&out),
            "--password-file",
            &pw,
        ],
    )
    .expect_code(5, "issue with a wrong passphrase");
    assert!(!out.exists());
    // Nothing changed: the right passphrase still opens the PKI, the certificate is good.
    let list = cli.run(&["pki", "list"]).expect_code(0, "list");
    assert!(list.stdout.contains(&serial));
    assert!(!list.stdout.contains("revoked"), "{}", list.stdout);
}

#[test]
fn an_empty_ca_passphrase_is_a_usage_error() {
    let cli = Cli::new();
    let run = cli
        .run_with("", &["pki", "init"])
        .expect_code(2, "empty passphrase");
    assert!(
        run.error().contains("QOLTANBA_CA_PASSPHRASE"),
        "{}",
        run.stderr
    );
    assert!(run.error().contains("empty"), "{}", run.stderr);
}

#[cfg(target_os = "linux")]
#[test]
fn an_unwritable_stdout_is_an_error_not_a_panic() {
    let cli = Cli::initialised();
    for args in [vec!["pki", "list"], vec!["pki", "init"]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("open /dev/full");
        let out = cli
            .command(CA_PASSPHRASE)
            .args(&args)
            .stdout(full)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    }
}

#[test]
fn commands_before_init_fail_and_say_how_to_init() {
    let cli = Cli::new();
    let run = cli.run(&["pki", "list"]).expect_code(1, "list before init");
    assert!(run.error().contains("pki init"), "{}", run.stderr);
    let out = cli.path("a.p12");
    let run = cli
        .issue(&s(&out), &["--key", "p256"])
        .expect_code(1, "issue before init");
    assert!(run.error().contains("pki init"), "{}", run.stderr);
    assert!(!out.exists(), "issue before init left a key store file");
}
