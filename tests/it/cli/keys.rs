//! `qoltanba keys` and `qoltanba audit`: a token printed once and usable over HTTP, names and
//! scopes listed without secrets, revocation, exit codes, and the CLI's own audit entries.

use super::*;

#[test]
fn keys_are_created_once_listed_without_secrets_revoked_and_audited() {
    let cli = Cli::initialised();
    let created = cli
        .run(&[
            "keys",
            "create",
            "--name",
            "portal",
            "--scope",
            "verify",
            "--scope",
            "pki:issue",
        ])
        .expect_code(0, "keys create");
    let token = created.stdout.trim().to_owned();
    assert!(token.starts_with("qlt_") && token.len() == 64, "{token}");
    assert!(
        created.stderr.contains("shown only now"),
        "{}",
        created.stderr
    );

    cli.run(&["keys", "create", "--name", "portal", "--scope", "sign"])
        .expect_code(4, "a taken name is a conflict");
    let bad = cli
        .run(&["keys", "create", "--name", "x", "--scope", "root"])
        .expect_code(2, "an unknown scope");
    assert!(bad.error().contains("unknown scope"), "{}", bad.error());
    cli.run(&["keys", "create", "--name", "no scope"])
        .expect_code(2, "no --scope at all");

    let list = cli.run(&["keys", "list"]).expect_code(0, "keys list");
    assert!(
        list.stdout.contains("portal\tverify pki:issue\t"),
        "{}",
        list.stdout
    );
    assert!(!list.stdout.contains(&token[21..]), "no secret in the list");

    cli.run(&["keys", "revoke", "--name", "portal"])
        .expect_code(0, "revoke");
    cli.run(&["keys", "revoke", "--name", "portal"])
        .expect_code(3, "already revoked: not found");
    let list = cli.run(&["keys", "list"]).expect_code(0, "keys list");
    let line = list
        .stdout
        .lines()
        .find(|l| l.starts_with("portal\t"))
        .expect("listed");
    assert!(!line.ends_with("\t-"), "revocation time shown: {line}");

    // The issuance and the key changes are in the trail, as the CLI's, with outcomes.
    cli.run(&[
        "pki",
        "issue",
        "--profile",
        "individual-sign",
        "--iin",
        &valid_iin(),
        "--surname",
        "ТЕСТОВ",
        "--given-name",
        "ТЕСТ",
        "--key",
        "p256",
        "--out",
        "a.p12",
        "--password-file",
        "pw",
    ]);
    let audit = cli
        .run(&["audit", "list", "--json"])
        .expect_code(0, "audit list");
    let events: Vec<serde_json::Value> = audit
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let has = |action: &str, outcome: &str| {
        events
            .iter()
            .any(|e| e["actor"] == "cli" && e["action"] == action && e["outcome"] == outcome)
    };
    assert!(has("cli keys create", "ok"), "{}", audit.stdout);
    assert!(
        has("cli keys create", "refused"),
        "the conflict is recorded"
    );
    assert!(has("cli keys revoke", "ok"));
    assert!(has("cli pki init", "ok"));
    assert!(
        has("cli pki issue", "refused") || has("cli pki issue", "failed"),
        "no password file"
    );
    assert!(
        !audit.stdout.contains(&token[21..]),
        "no token in the trail"
    );
    cli.run(&["audit", "list", "--limit", "0"])
        .expect_code(2, "bad limit");
}
