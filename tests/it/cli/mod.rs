//! The `qoltanba` binary as a user runs it: output, files, and the exit-code contract
//! (0 ok, 1 failure, 2 invalid input/usage, 3 not found, 4 conflict, 5 wrong CA passphrase).

mod audited;
mod failures;
mod issuance;
mod keys;
mod revocation;

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
    /// The database, when not the data directory's SQLite file.
    database_url: Option<String>,
    /// QOLTANBA_PKI_DIR, when not the built-in hierarchy.
    pki_dir: Option<PathBuf>,
}

impl Cli {
    fn new() -> Cli {
        Cli {
            dir: tempfile::tempdir().expect("tempdir"),
            database_url: None,
            pki_dir: None,
        }
    }

    /// A fresh directory whose commands read the hierarchy from the repository's `dir`
    /// (pki/gost2004, …).
    fn with_pki_dir(dir: &str) -> Cli {
        Cli {
            pki_dir: Some(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)),
            ..Cli::new()
        }
    }

    /// A fresh directory and database, the PKI created; None without PostgreSQL.
    async fn initialised_on(backend: crate::common::Backend) -> Option<Cli> {
        let dir = tempfile::tempdir().expect("tempdir");
        let database_url = Some(crate::common::database(backend, dir.path()).await?);
        let cli = Cli {
            dir,
            database_url,
            pki_dir: None,
        };
        cli.run(&["pki", "init"]).expect_code(0, "pki init");
        Some(cli)
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
        if let Some(url) = &self.database_url {
            command.env("QOLTANBA_DATABASE_URL", url);
        }
        if let Some(dir) = &self.pki_dir {
            command.env("QOLTANBA_PKI_DIR", dir);
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
