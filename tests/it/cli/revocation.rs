use super::*;

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
    // The issued one, the OCSP responder, the licensing official (who signs documents) and the
    // time-stamping authority.
    assert!(list.stdout.contains("official-sign"), "{}", list.stdout);
    assert!(list.stdout.contains("tsa"), "{}", list.stdout);
    assert_eq!(cli.serials().len(), 4, "{}", list.stdout);
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
