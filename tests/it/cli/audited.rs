//! The command line's acts are audited in their own transactions too (issue 12, item 3): `pki
//! issue`, `pki revoke`, `pki unhold` and `documents issue` each leave exactly one entry, by
//! "cli", naming the serial or number; a refused command leaves its refusal.

use serde_json::Value;

use super::*;
use crate::common::Backend;
use crate::documents::license_payload;

impl Cli {
    /// The audit trail, oldest first.
    fn trail(&self) -> Vec<Value> {
        let run = self
            .run(&["audit", "list", "--json", "--limit", "1000"])
            .expect_code(0, "audit list");
        let mut events: Vec<Value> = run
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect();
        events.reverse();
        events
    }
}

async fn acts_leave_one_entry_naming_them(backend: Backend) {
    let Some(cli) = Cli::initialised_on(backend).await else {
        return;
    };
    let serial = cli.issue_serial(&s(&cli.path("a.p12")));
    cli.run(&[
        "pki",
        "revoke",
        "--serial",
        &serial,
        "--reason",
        "certificateHold",
    ])
    .expect_code(0, "hold");
    cli.run(&["pki", "unhold", "--serial", &serial])
        .expect_code(0, "unhold");
    cli.run(&[
        "pki",
        "revoke",
        "--serial",
        &serial,
        "--reason",
        "keyCompromise",
    ])
    .expect_code(0, "revoke");
    cli.run(&[
        "pki",
        "revoke",
        "--serial",
        &serial,
        "--reason",
        "keyCompromise",
    ])
    .expect_code(4, "revoke again");
    let payload = cli.path("payload.json");
    std::fs::write(&payload, license_payload().to_string()).expect("payload");
    let signed = cli
        .run(&[
            "documents",
            "issue",
            "--kind",
            "license",
            "--payload",
            &s(&payload),
        ])
        .expect_code(0, "documents issue");
    let field = |name: &str| {
        signed
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("no {name} in {}", signed.stdout))
    };
    let (number, sha256) = (field("number"), field("sha256"));

    let trail = cli.trail();
    let line = |e: &Value| {
        format!(
            "{} | {} | {} | {} | {} | {}",
            e["actor"].as_str().unwrap_or_default(),
            e["action"].as_str().unwrap_or_default(),
            e["target"].as_str().unwrap_or_default(),
            e["outcome"].as_str().unwrap_or_default(),
            e["status"],
            e["detail"].as_str().unwrap_or_default()
        )
    };
    let lines: Vec<String> = trail.iter().skip(1).map(line).collect(); // after `pki init`
    let expected = [
        format!("cli | cli pki issue | profile individual-sign | ok | 0 | issued serial {serial} profile individual-sign key "),
        format!("cli | cli pki revoke | serial {serial} reason certificateHold | ok | 0 | revoked serial {serial} reason certificateHold"),
        format!("cli | cli pki unhold | serial {serial} | ok | 0 | released serial {serial} from hold"),
        format!("cli | cli pki revoke | serial {serial} reason keyCompromise | ok | 0 | revoked serial {serial} reason keyCompromise"),
        format!("cli | cli pki revoke | serial {serial} reason keyCompromise | refused | 4 | certificate {serial} is already revoked"),
        format!("cli | cli documents issue | kind license | ok | 0 | signed document {number} kind license sha256 {sha256}"),
    ];
    assert_eq!(lines.len(), expected.len(), "{lines:#?}");
    for (line, expected) in lines.iter().zip(&expected) {
        assert!(
            line.starts_with(expected.as_str()),
            "{line}\nexpected {expected}…"
        );
    }
}

#[tokio::test]
async fn acts_leave_one_entry_naming_them_on_sqlite() {
    acts_leave_one_entry_naming_them(Backend::Sqlite).await;
}

#[tokio::test]
async fn acts_leave_one_entry_naming_them_on_postgresql() {
    acts_leave_one_entry_naming_them(Backend::Postgres).await;
}
