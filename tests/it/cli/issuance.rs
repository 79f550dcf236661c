use super::*;

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
    // The log's key is made with the PKI and does not change when init runs again.
    let key_line = |out: &str| {
        out.lines()
            .find(|l| l.starts_with("transparency log key: "))
            .map(str::to_owned)
    };
    assert!(key_line(&first.stdout).is_some(), "{}", first.stdout);
    assert_eq!(key_line(&first.stdout), key_line(&second.stdout));
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

    // --cert-out with a .cer name is DER.
    let der_out = cli.path("der.p12");
    let der_cert = cli.path("der.cer");
    cli.issue(&s(&der_out), &["--cert-out", &s(&der_cert)])
        .expect_code(0, "DER certificate");
    let text = openssl_ok(&[
        "x509",
        "-inform",
        "DER",
        "-in",
        &s(&der_cert),
        "-noout",
        "-subject",
    ]);
    assert!(text.contains("IIN"), "{text}");

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
fn a_gost2004_pki_from_pki_dir_issues_key_stores_that_sign_and_verify_offline() {
    let cli = Cli::with_pki_dir("pki/gost2004");
    let init = cli.run(&["pki", "init"]).expect_code(0, "pki init");
    assert!(
        init.stdout.contains("qoltanba_gost2004_test"),
        "{}",
        init.stdout
    );
    // No --key: the issuing CA's GOST 34.310-2004; --legacy: NCA's key store format.
    let p12 = cli.path("ceo.p12");
    cli.issue(&s(&p12), &["--legacy"])
        .expect_code(0, "pki issue");
    let ca = cli.path("ca.pem");
    cli.run(&["pki", "ca", "--out", &s(&ca)])
        .expect_code(0, "pki ca");
    let chain = Certificate::load_pem_chain(&std::fs::read(&ca).expect("ca.pem")).expect("PEM");
    let (issuing, root) = (cli.path("issuing.cer"), cli.path("root.cer"));
    std::fs::write(&issuing, chain[0].to_der().expect("der")).expect("write");
    std::fs::write(&root, chain[1].to_der().expect("der")).expect("write");
    let (issuing_crl, root_crl) = (cli.path("issuing.crl"), cli.path("root.crl"));
    cli.run(&["pki", "crl", "--out", &s(&issuing_crl)])
        .expect_code(0, "issuing CRL");
    cli.run(&[
        "pki",
        "crl",
        "--ca",
        "qoltanba_root_gost2004_test",
        "--out",
        &s(&root_crl),
    ])
    .expect_code(0, "root CRL");

    let pw = cli.password_file();
    for (name, content) in [
        ("request.json", &br#"{"applicant":{}}"#[..]),
        ("request.xml", b"<request><applicant/></request>"),
    ] {
        let input = cli.path(name);
        std::fs::write(&input, content).expect("write");
        let signed = cli.path(&format!("{name}.signed"));
        cli.run(&[
            "sign",
            "--input",
            &s(&input),
            "--key",
            &s(&p12),
            "--password-file",
            &pw,
            "--out",
            &s(&signed),
        ])
        .expect_code(0, "sign");
        let (code, out, err) = crate::verify_cli::verify(&[
            "--signature",
            &s(&signed),
            "--trust",
            &s(&root),
            "--intermediate",
            &s(&issuing),
            "--crl",
            &s(&issuing_crl),
            "--crl",
            &s(&root_crl),
            "--offline",
        ]);
        assert_eq!(code, 0, "{name}: {out}{err}");
        assert!(out.starts_with("verdict: valid"), "{name}: {out}");
        assert!(
            out.contains("GOST 34.310-2004 signature by"),
            "{name}: {out}"
        );
    }
}
