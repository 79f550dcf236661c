//! `qoltanba verify` as a script runs it: the exit status is the contract
//! (0 valid, 1 invalid, 2 indeterminate, 64 bad arguments, 65 unreadable or malformed input).

use std::process::Command;

use crate::signing::Signer;

fn fixture(name: &str) -> String {
    format!("{}/fixtures/nca/rsa/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `qoltanba verify ARGS` with a clean environment: (exit status, stdout, stderr).
pub(crate) fn verify(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_qoltanba"))
        .arg("verify")
        .args(args)
        .env_remove("QOLTANBA_CONFIG")
        .env_remove("QOLTANBA_DATABASE_URL")
        .env("QOLTANBA_DATA_DIR", "/nonexistent/qoltanba-test")
        .env("NO_COLOR", "1")
        .output()
        .expect("run qoltanba");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn exit_codes_follow_the_verdict_and_the_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sign = |store: &str| {
        let s = Signer::from_pkcs12(
            &std::fs::read(fixture(store)).expect("p12"),
            "Qwerty12",
            dir.path(),
            store,
            true,
        );
        let der = s.sign(
            br#"{"applicant":{"iin":"123456789011"}}"#,
            dir.path(),
            false,
            &[],
        );
        let path = dir.path().join(format!("{store}.p7s"));
        std::fs::write(&path, der).expect("write");
        path.to_str().expect("utf-8").to_owned()
    };
    let valid = sign("individual_valid_sign.p12");
    let revoked = sign("individual_sign_revoked.p12");
    let (anchor, crl) = (fixture("nca_rsa_test.crt"), fixture("nca_rsa_test.crl"));
    let base = |sig: &str, at: &str| -> Vec<String> {
        [
            "--signature",
            sig,
            "--trust",
            &anchor,
            "--crl",
            &crl,
            "--offline",
            "--at",
            at,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let run = |args: Vec<String>| verify(&args.iter().map(String::as_str).collect::<Vec<_>>());

    // NCA's only CRL is from after the certificate expired: in 2021 every check passes but
    // revocation, which nothing covers then (indeterminate, 2). Inside the CRL's own time the
    // revoked key store is invalid (1), and our own PKI's valid signatures exit 0 (below and
    // in verify_openssl).
    let (code, out, err) = run(base(&valid, "2021-06-01T00:00:00Z"));
    assert_eq!(code, 2, "indeterminate: {out}{err}");
    assert!(out.starts_with("verdict: indeterminate"), "{out}");

    let mut json = base(&valid, "2021-06-01T00:00:00Z");
    json.extend(["--format".into(), "json".into()]);
    let (code, out, _) = run(json);
    assert_eq!(code, 2);
    let report: serde_json::Value = serde_json::from_str(&out).expect("stdout is the JSON report");
    assert_eq!(report["verdict"], "indeterminate");
    assert_eq!(report["sub_indication"], "REVOCATION_OUT_OF_BOUNDS_NO_POE");

    let (code, out, _) = run(base(&revoked, "2022-06-01T00:00:00Z"));
    assert_eq!(code, 1, "invalid: {out}");
    assert!(out.contains("refusal (ru)"), "{out}");

    let mut no_crl = vec![
        "--signature".to_string(),
        valid.clone(),
        "--trust".into(),
        anchor.clone(),
        "--offline".into(),
    ];
    no_crl.extend(["--at".into(), "2021-06-01T00:00:00Z".into()]);
    assert_eq!(
        run(no_crl).0,
        2,
        "no revocation information offline: indeterminate"
    );

    let mut wrong_iin = base(&valid, "2021-06-01T00:00:00Z");
    wrong_iin.extend(["--iin".into(), "900517312343".into()]);
    assert_eq!(run(wrong_iin).0, 1, "IIN mismatch is invalid");

    let mut bad_iin = base(&valid, "2021-06-01T00:00:00Z");
    bad_iin.extend(["--iin".into(), "12345".into()]);
    let (code, _, err) = run(bad_iin);
    assert_eq!(code, 64, "a malformed IIN is a bad argument: {err}");
    assert!(err.contains("12 digits"), "{err}");
    assert_eq!(run(base(&valid, "last tuesday")).0, 64, "a bad --at");
    assert_eq!(verify(&["--signature"]).0, 64, "a usage error");
    assert_eq!(
        verify(&["--signature", &valid, "--format", "xml", "--trust", &anchor]).0,
        64
    );

    let garbage = dir.path().join("garbage.p7s");
    std::fs::write(&garbage, b"this is not CMS").expect("write");
    let (code, _, err) = run(base(garbage.to_str().expect("p"), "2021-06-01T00:00:00Z"));
    assert_eq!(code, 65, "garbage input: {err}");
    assert_eq!(
        run(base("/nonexistent/sig.p7s", "2021-06-01T00:00:00Z")).0,
        65,
        "unreadable input"
    );
}

/// `qoltanba sign --key …/individual_valid.p12` with NCA's real GOST key store, then
/// `qoltanba verify` against NCA's real GOST root and CRL: the exit status tells valid (0),
/// revoked (1), and unknown CA status without the root's CRL (2).
#[test]
fn qoltanba_sign_and_verify_with_real_nca_gost_key_stores() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gost = |name: &str| format!("{}/fixtures/nca/gost/{name}", env!("CARGO_MANIFEST_DIR"));
    let password = dir.path().join("pw");
    std::fs::write(&password, "Qwerty12\n").expect("write");
    let input = dir.path().join("request.json");
    std::fs::write(&input, br#"{"applicant":{"iin":"123456789011"}}"#).expect("write");
    let sign = |store: &str| {
        let out = dir.path().join(format!("{store}.p7s"));
        let run = Command::new(env!("CARGO_BIN_EXE_qoltanba"))
            .args(["sign", "--input"])
            .arg(&input)
            .arg("--key")
            .arg(gost(store))
            .arg("--password-file")
            .arg(&password)
            .arg("--out")
            .arg(&out)
            .env("NO_COLOR", "1")
            .output()
            .expect("run qoltanba sign");
        assert!(
            run.status.success(),
            "{store}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        out.to_str().expect("utf-8 path").to_owned()
    };
    let (root, ca, crl) = (
        gost("root_test_gost_2022.cer"),
        gost("nca_gost2022_test.cer"),
        gost("nca_gost2022_test.crl"),
    );
    let valid = sign("individual_valid.p12");
    let revoked = sign("individual_revoked.p12");
    let args = |signature: &str, scope: Option<&str>| {
        let mut args = vec![
            "--signature".to_owned(),
            signature.to_owned(),
            "--trust".into(),
            root.clone(),
            "--intermediate".into(),
            ca.clone(),
            "--crl".into(),
            crl.clone(),
            "--offline".into(),
            "--format".into(),
            "json".into(),
        ];
        if let Some(scope) = scope {
            args.extend(["--revocation-scope".to_owned(), scope.to_owned()]);
        }
        args
    };
    let run = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        verify(&args)
    };
    let (code, stdout, stderr) = run(args(&valid, Some("leaf")));
    assert_eq!(code, 0, "{stdout}{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON report");
    assert_eq!(report["expected_identity"]["iin"], "123456789011");
    assert_eq!(
        report["signers"][0]["algorithm"], "GOST 34.10-2015 (512)",
        "the report names the algorithm as NCA does"
    );
    assert!(
        report["checks"]
            .to_string()
            .contains("GOST 34.10-2015 (512) signature by"),
        "the signature step names the algorithm"
    );
    assert_eq!(run(args(&revoked, Some("leaf"))).0, 1);
    assert_eq!(
        run(args(&revoked, None)).0,
        1,
        "a CRL entry is proof enough"
    );
    assert_eq!(
        run(args(&valid, None)).0,
        2,
        "the issuing CA's status is unknown without the root's CRL"
    );
    let (code, _, stderr) = run(args(&valid, Some("sideways")));
    assert_eq!(code, 64, "{stderr}");
}

/// Runs `qoltanba ARGS` (any command): its exit status.
fn qoltanba(args: &[&str]) -> i32 {
    Command::new(env!("CARGO_BIN_EXE_qoltanba"))
        .args(args)
        .env_remove("QOLTANBA_CONFIG")
        .env("QOLTANBA_DATA_DIR", "/nonexistent/qoltanba-test")
        .output()
        .expect("run qoltanba")
        .status
        .code()
        .unwrap_or(-1)
}

#[test]
fn only_the_verify_command_answers_a_usage_error_with_64() {
    // An argument that merely equals "verify" does not make the command `verify`.
    assert_eq!(qoltanba(&["sign", "--no-such-flag", "verify"]), 2);
    assert_eq!(qoltanba(&["pki", "revoke", "verify", "--bogus"]), 2);
    assert_eq!(qoltanba(&["--config", "verify", "sign", "--bogus"]), 2);
    // The verify command itself, after the global --config or not, keeps its 64.
    assert_eq!(qoltanba(&["verify", "--bogus"]), 64);
    assert_eq!(qoltanba(&["--config", "x.toml", "verify", "--bogus"]), 64);
}

/// XML on the command line: Kalkan's sample as the README shows it is valid (0); malformed
/// XML, a DOCTYPE and bad UTF-8 are unreadable input (65); readable XML without a signature is
/// an invalid verdict (1).
#[test]
fn xml_signatures_follow_the_same_exit_codes() {
    let sample = format!(
        "{}/fixtures/kalkan/xml/xml_enveloped_rsa-sha256_c14n-inclusive.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let anchor = fixture("nca_rsa_test.crt");
    let crl = fixture("nca_rsa_test.crl");
    let args = |signature: &str| {
        vec![
            "--signature".to_owned(),
            signature.to_owned(),
            "--trust".into(),
            anchor.clone(),
            "--crl".into(),
            crl.clone(),
            "--offline".into(),
            "--at".into(),
            "2021-06-01T00:00:00Z".into(),
            "--format".into(),
            "json".into(),
        ]
    };
    let run = |signature: &str| {
        let owned = args(signature);
        let borrowed: Vec<&str> = owned.iter().map(String::as_str).collect();
        verify(&borrowed)
    };
    let (code, out, err) = run(&sample);
    // Every check but revocation passes (NCA's only CRL is from after the expiry): 2.
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("\"covers\""), "{out}");
    assert!(out.contains("REVOCATION_OUT_OF_BOUNDS_NO_POE"), "{out}");
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, bytes, expected) in [
        ("malformed.xml", b"<a><b></a>".to_vec(), 65),
        (
            "doctype.xml",
            b"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>".to_vec(),
            65,
        ),
        ("latin1.xml", b"<a>\xe9</a>".to_vec(), 65),
        ("unsigned.xml", b"<a><b>test</b></a>".to_vec(), 1),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let (code, out, err) = run(path.to_str().expect("utf-8"));
        assert_eq!(code, expected, "{name}: {out}{err}");
    }
}
