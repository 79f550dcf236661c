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

/// Keys at rest: `serve` with a passphrase that cannot unlock the CA keys refuses to start,
/// says why, and exits 5 (never serves with keys it cannot use).
#[test]
fn serve_refuses_to_start_when_it_cannot_unlock_the_ca_keys() {
    let cli = Cli::initialised();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut child = cli
        .command("not the passphrase")
        .arg("serve")
        .env("QOLTANBA_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start serve");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve started with a wrong CA passphrase");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("read stderr");
    assert_eq!(status.code(), Some(5), "{stderr}");
    assert!(stderr.to_lowercase().contains("passphrase"), "{stderr}");
}

/// `config check`: 0 and a summary for a good setup; 5 when the passphrase cannot unlock the
/// PKI; 2 when a named file is missing; the database password is never printed.
#[test]
fn config_check_reports_what_would_stop_the_service() {
    let cli = Cli::initialised();
    let ok = cli.run(&["config", "check"]).expect_code(0, "config check");
    assert!(
        ok.stdout.contains("PKI") && ok.stdout.contains("unlocked"),
        "{}",
        ok.stdout
    );
    assert!(ok.stdout.ends_with("configuration OK\n"));
    cli.run_with("wrong passphrase", &["config", "check"])
        .expect_code(5, "wrong passphrase");
    let missing = cli
        .command(CA_PASSPHRASE)
        .args(["config", "check"])
        .env("QOLTANBA_VERIFY_TRUST", cli.path("absent.pem"))
        .output()
        .expect("run");
    assert_eq!(missing.status.code(), Some(2));
    let secret = cli
        .command(CA_PASSPHRASE)
        .args(["config", "check"])
        .env(
            "QOLTANBA_DATABASE_URL",
            "postgres://user:hunter2secret@127.0.0.1:9/none",
        )
        .output()
        .expect("run");
    assert_ne!(secret.status.code(), Some(0));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&secret.stdout),
        String::from_utf8_lossy(&secret.stderr)
    );
    assert!(!all.contains("hunter2secret"), "{all}");
}
