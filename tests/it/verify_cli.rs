//! `qoltanba verify` as a script runs it: the exit status is the contract
//! (0 valid, 1 invalid, 2 indeterminate, 64 bad arguments, 65 unreadable or malformed input).

use std::process::Command;

use crate::signing::Signer;

fn fixture(name: &str) -> String {
    format!("{}/fixtures/nca/rsa/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `qoltanba verify ARGS` with a clean environment: (exit status, stdout, stderr).
pub fn verify(args: &[&str]) -> (i32, String, String) {
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

    let (code, out, err) = run(base(&valid, "2021-06-01T00:00:00Z"));
    assert_eq!(code, 0, "valid: {out}{err}");
    assert!(out.starts_with("verdict: valid"), "{out}");

    let mut json = base(&valid, "2021-06-01T00:00:00Z");
    json.extend(["--format".into(), "json".into()]);
    let (code, out, _) = run(json);
    assert_eq!(code, 0);
    let report: serde_json::Value = serde_json::from_str(&out).expect("stdout is the JSON report");
    assert_eq!(report["verdict"], "valid");

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
