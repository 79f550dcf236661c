//! The packaging examples stay true: the example config loads, the systemd unit starts the
//! service with it, and `qoltanba --version` answers.

use std::path::Path;
use std::process::Command;

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[test]
fn the_example_config_loads_with_the_values_it_shows() {
    let config =
        qoltanba::config::Config::load_from(Some(&repo("packaging/qoltanba.toml")), |_| None)
            .expect("packaging/qoltanba.toml loads");
    assert_eq!(config.public_url, "http://pki.example.kz");
    assert!(config.database_url.starts_with("postgres://"));
    assert_eq!(config.security.rate_limit_per_minute, 600);
    assert_eq!(config.operations.shutdown_grace_seconds, 20);
    assert_eq!(
        config.verify.revocation_scope,
        qoltanba::verify::RevocationScope::Chain
    );
}

#[test]
fn the_systemd_unit_runs_serve_with_the_example_config_and_outlasts_the_grace_period() {
    let unit = std::fs::read_to_string(repo("packaging/qoltanba.service")).expect("unit");
    assert!(unit
        .contains("ExecStart=/usr/local/bin/qoltanba --config /etc/qoltanba/qoltanba.toml serve"));
    let stop: u64 = unit
        .lines()
        .find_map(|l| l.strip_prefix("TimeoutStopSec="))
        .and_then(|v| v.parse().ok())
        .expect("TimeoutStopSec");
    let config =
        qoltanba::config::Config::load_from(Some(&repo("packaging/qoltanba.toml")), |_| None)
            .expect("config");
    assert!(
        stop > config.operations.shutdown_grace_seconds,
        "SIGKILL must not cut the grace short"
    );
    let files: u64 = unit
        .lines()
        .find_map(|l| l.strip_prefix("LimitNOFILE="))
        .and_then(|v| v.parse().ok())
        .expect("LimitNOFILE");
    assert!(
        files >= 2 * u64::from(config.security.max_connections),
        "the connection cap must bind before the file-descriptor limit"
    );
}

#[test]
fn version_prints_the_package_version() {
    let out = Command::new(env!("CARGO_BIN_EXE_qoltanba"))
        .arg("--version")
        .output()
        .expect("run");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("qoltanba {}", env!("CARGO_PKG_VERSION"))
    );
}
