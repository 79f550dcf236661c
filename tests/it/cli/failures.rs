use super::*;

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
