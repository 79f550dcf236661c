//! Key stores against the outside world: real NCA RK key stores (fixtures/nca) and the
//! `openssl` command-line tool (OpenSSL 3), both ways. OpenSSL must be installed: these tests
//! fail, not skip, without it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use qoltanba::keystore::{
    build_pkcs12, decrypt_private_key, encrypt_private_key, open_pkcs12, KeyStoreError,
    Pkcs12Flavour,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
const NCA_PASSWORD: &str = "Qwerty12";

fn fixture(rel: &str) -> PathBuf {
    Path::new(FIXTURES).join(rel)
}

fn fixtures_in(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(fixture(dir))
        .unwrap_or_else(|e| panic!("fixtures {dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    out.sort();
    out
}

/// Run `openssl` with `args` (and `stdin`), returning (success, stdout, stderr).
fn openssl_run(args: &[&str], stdin: Option<&[u8]>) -> (bool, Vec<u8>, String) {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the `openssl` command (OpenSSL 3) is required by these tests");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.success(), out.stdout, stderr)
}

/// Run `openssl`, fail the test unless it succeeds; returns stdout.
fn openssl(args: &[&str]) -> Vec<u8> {
    openssl_with_input(args, &[])
}

fn openssl_with_input(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let (ok, stdout, stderr) = openssl_run(args, Some(stdin));
    assert!(ok, "openssl {args:?} failed:\n{stderr}");
    stdout
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A key pair and self-signed certificate made by OpenSSL, plus a second certificate that
/// plays the issuing CA in the chain.
struct Material {
    dir: tempfile::TempDir,
    key_pem: PathBuf,
    cert_pem: PathBuf,
    ca_pem: PathBuf,
    key_der: Vec<u8>,
    cert_der: Vec<u8>,
    ca_der: Vec<u8>,
}

fn material(newkey: &[&str]) -> Material {
    let dir = tempfile::tempdir().unwrap();
    let key_pem = dir.path().join("key.pem");
    let cert_pem = dir.path().join("cert.pem");
    let ca_pem = dir.path().join("ca.pem");
    let ca_key = dir.path().join("ca-key.pem");
    for (key, cert, cn) in [
        (&key_pem, &cert_pem, "/CN=Leaf"),
        (&ca_key, &ca_pem, "/CN=CA"),
    ] {
        let mut args = vec!["req", "-x509"];
        args.extend_from_slice(newkey);
        args.extend_from_slice(&["-nodes", "-keyout", path_str(key), "-out", path_str(cert)]);
        args.extend_from_slice(&["-subj", cn, "-days", "2"]);
        openssl(&args);
    }
    let key_der = openssl(&[
        "pkcs8",
        "-topk8",
        "-nocrypt",
        "-in",
        path_str(&key_pem),
        "-outform",
        "DER",
    ]);
    let cert_der = openssl(&["x509", "-in", path_str(&cert_pem), "-outform", "DER"]);
    let ca_der = openssl(&["x509", "-in", path_str(&ca_pem), "-outform", "DER"]);
    Material {
        dir,
        key_pem,
        cert_pem,
        ca_pem,
        key_der,
        cert_der,
        ca_der,
    }
}

fn rsa() -> Material {
    material(&["-newkey", "rsa:2048"])
}

fn ec() -> Material {
    material(&["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])
}

impl Material {
    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn cert_public_key(&self) -> Vec<u8> {
        openssl(&["x509", "-in", path_str(&self.cert_pem), "-pubkey", "-noout"])
    }
}

/// The public key (PEM) of a PKCS#8 DER private key, as OpenSSL derives it.
fn public_key_of(pkcs8_der: &[u8]) -> Vec<u8> {
    openssl_with_input(&["pkey", "-inform", "DER", "-pubout"], pkcs8_der)
}

fn pem_cert_to_der(pem: &[u8]) -> Vec<u8> {
    openssl_with_input(&["x509", "-outform", "DER"], pem)
}

// ---------------------------------------------------------------- NCA RK key stores

#[test]
fn nca_rsa_stores_open_and_hold_the_published_certificate() {
    let stores = fixtures_in("nca/rsa", "p12");
    assert!(!stores.is_empty());
    for p12 in stores {
        let c = open_pkcs12(&std::fs::read(&p12).unwrap(), NCA_PASSWORD)
            .unwrap_or_else(|e| panic!("{}: {e}", p12.display()));
        let pem = std::fs::read(p12.with_extension("pem")).unwrap();
        assert_eq!(c.certificate, pem_cert_to_der(&pem), "{}", p12.display());
        assert!(c.chain.is_empty());
        // The key is the certificate's: OpenSSL derives the same public key from both.
        let cert_pub = openssl_with_input(&["x509", "-pubkey", "-noout"], &pem);
        assert_eq!(
            public_key_of(&c.private_key_pkcs8),
            cert_pub,
            "{}",
            p12.display()
        );
        // NCA names the entry with the hex of its localKeyId (the certificate's SKI).
        let name = c.friendly_name.expect("NCA stores carry a friendlyName");
        assert_eq!(name.len(), 40);
    }
}

#[test]
fn nca_gost_stores_open_with_the_kazakh_key_algorithm() {
    // 1.2.398.3.10.1.1.2.2, DER-encoded
    const GOST_KEY_OID: [u8; 11] = [
        0x06, 0x09, 0x2a, 0x83, 0x0e, 0x03, 0x0a, 0x01, 0x01, 0x02, 0x02,
    ];
    let stores = fixtures_in("nca/gost", "p12");
    assert!(!stores.is_empty());
    for p12 in stores {
        let bytes = std::fs::read(&p12).unwrap();
        let c =
            open_pkcs12(&bytes, NCA_PASSWORD).unwrap_or_else(|e| panic!("{}: {e}", p12.display()));
        let key = &c.private_key_pkcs8[..];
        assert!(
            key.windows(GOST_KEY_OID.len()).any(|w| w == GOST_KEY_OID),
            "{}",
            p12.display()
        );
        // The certificate is the one OpenSSL (with -legacy) finds in the store.
        let pass = format!("pass:{NCA_PASSWORD}");
        let pem = openssl(&[
            "pkcs12",
            "-legacy",
            "-in",
            path_str(&p12),
            "-passin",
            &pass,
            "-nokeys",
        ]);
        assert_eq!(c.certificate, pem_cert_to_der(&pem), "{}", p12.display());
        assert!(c.chain.is_empty());
    }
}

#[test]
fn nca_stores_refuse_a_wrong_password() {
    for p12 in [
        fixture("nca/rsa/individual_valid_sign.p12"),
        fixture("nca/gost/individual_valid.p12"),
    ] {
        let bytes = std::fs::read(&p12).unwrap();
        for wrong in ["qwerty12", "Qwerty123", ""] {
            assert!(
                matches!(
                    open_pkcs12(&bytes, wrong),
                    Err(KeyStoreError::WrongPassword)
                ),
                "{} {wrong:?}",
                p12.display()
            );
        }
    }
}

#[test]
fn nca_gost_store_rebuilt_in_both_flavours() {
    let bytes = std::fs::read(fixture("nca/gost/individual_valid.p12")).unwrap();
    let original = open_pkcs12(&bytes, NCA_PASSWORD).unwrap();
    for flavour in [Pkcs12Flavour::Modern, Pkcs12Flavour::Legacy] {
        let rebuilt = build_pkcs12(
            &original.private_key_pkcs8,
            &original.certificate,
            &[],
            "new password",
            original.friendly_name.as_deref(),
            flavour,
        )
        .unwrap();
        let again = open_pkcs12(&rebuilt, "new password").unwrap();
        assert_eq!(again.private_key_pkcs8, original.private_key_pkcs8);
        assert_eq!(again.certificate, original.certificate);
        assert_eq!(again.friendly_name, original.friendly_name);
    }
}

// ---------------------------------------------------------------- our stores in OpenSSL

/// Non-ASCII on purpose: OpenSSL 3 turns it into UTF-16 for the PKCS#12 KDF, as we do.
const PASSWORD: &str = "Құпия сөз 1";

/// `openssl pkcs12 -info -nodes` for `p12`: stdout (bags, attributes) and stderr (algorithms).
fn pkcs12_info(p12: &Path, legacy: bool) -> String {
    let pass = format!("pass:{PASSWORD}");
    let mut args = vec![
        "pkcs12",
        "-info",
        "-nodes",
        "-in",
        path_str(p12),
        "-passin",
        &pass,
    ];
    if legacy {
        args.push("-legacy");
    }
    let (ok, stdout, stderr) = openssl_run(&args, None);
    assert!(ok, "openssl {args:?} failed:\n{stderr}");
    format!("{}{stderr}", String::from_utf8_lossy(&stdout))
}

/// OpenSSL extracts from `p12` the key of the leaf certificate, the leaf and the CA.
fn assert_openssl_extracts(m: &Material, p12: &Path, legacy: bool) {
    let pass = format!("pass:{PASSWORD}");
    let base = |extra: &[&str]| {
        let mut args = vec!["pkcs12", "-in", path_str(p12), "-passin", &pass];
        if legacy {
            args.push("-legacy");
        }
        args.extend_from_slice(extra);
        openssl(&args)
    };
    let key_pem = base(&["-nocerts", "-nodes"]);
    let public = openssl_with_input(&["pkey", "-pubout"], &key_pem);
    assert_eq!(
        public,
        m.cert_public_key(),
        "the extracted key is not the certificate's"
    );
    assert_eq!(pem_cert_to_der(&base(&["-nokeys", "-clcerts"])), m.cert_der);
    assert_eq!(pem_cert_to_der(&base(&["-nokeys", "-cacerts"])), m.ca_der);
}

#[test]
fn modern_store_opens_in_openssl_without_legacy() {
    for m in [rsa(), ec()] {
        let pfx = build_pkcs12(
            &m.key_der,
            &m.cert_der,
            std::slice::from_ref(&m.ca_der),
            PASSWORD,
            Some("Test key"),
            Pkcs12Flavour::Modern,
        )
        .unwrap();
        let p12 = m.file("modern.p12", &pfx);
        let info = pkcs12_info(&p12, false);
        for expected in [
            "MAC: sha256, Iteration 2048",
            "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256",
            "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256",
            "friendlyName: Test key",
        ] {
            assert!(info.contains(expected), "missing {expected:?} in:\n{info}");
        }
        assert_openssl_extracts(&m, &p12, false);
    }
}

#[test]
fn legacy_store_opens_in_openssl_legacy_mode_only() {
    for m in [rsa(), ec()] {
        let pfx = build_pkcs12(
            &m.key_der,
            &m.cert_der,
            std::slice::from_ref(&m.ca_der),
            PASSWORD,
            None,
            Pkcs12Flavour::Legacy,
        )
        .unwrap();
        let p12 = m.file("legacy.p12", &pfx);
        let info = pkcs12_info(&p12, true);
        for expected in [
            "MAC: sha1, Iteration 2048",
            "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048",
            "PKCS7 Encrypted data: pbeWithSHA1And40BitRC2-CBC, Iteration 2048",
        ] {
            assert!(info.contains(expected), "missing {expected:?} in:\n{info}");
        }
        assert_openssl_extracts(&m, &p12, true);
        // RC2-40 lives in OpenSSL 3's legacy provider: without -legacy it must fail.
        let pass = format!("pass:{PASSWORD}");
        let (ok, _, _) = openssl_run(
            &["pkcs12", "-in", path_str(&p12), "-passin", &pass, "-nodes"],
            None,
        );
        assert!(!ok, "OpenSSL 3 opened a legacy store without -legacy");
    }
}

// ---------------------------------------------------------------- OpenSSL's stores here

#[test]
fn openssl_made_stores_open() {
    let variants: &[&[&str]] = &[
        &[],
        &["-legacy"],
        &[
            "-keypbe",
            "AES-128-CBC",
            "-certpbe",
            "AES-192-CBC",
            "-macalg",
            "sha512",
        ],
        &[
            "-keypbe",
            "DES-EDE3-CBC",
            "-certpbe",
            "NONE",
            "-macalg",
            "sha384",
        ],
        &[
            "-legacy",
            "-keypbe",
            "PBE-SHA1-RC2-128",
            "-certpbe",
            "PBE-SHA1-3DES",
        ],
        &[
            "-legacy",
            "-keypbe",
            "PBE-SHA1-2DES",
            "-certpbe",
            "PBE-SHA1-RC2-40",
            "-iter",
            "1",
        ],
        &["-iter", "100000", "-maciter"],
    ];
    for m in [rsa(), ec()] {
        for (i, extra) in variants.iter().enumerate() {
            let p12 = m.dir.path().join(format!("openssl-{i}.p12"));
            let pass = format!("pass:{PASSWORD}");
            let mut args = vec![
                "pkcs12",
                "-export",
                "-inkey",
                path_str(&m.key_pem),
                "-in",
                path_str(&m.cert_pem),
                "-certfile",
                path_str(&m.ca_pem),
                "-name",
                "Кілт",
                "-passout",
                &pass,
                "-out",
                path_str(&p12),
            ];
            args.extend_from_slice(extra);
            openssl(&args);
            let bytes = std::fs::read(&p12).unwrap();
            let c = open_pkcs12(&bytes, PASSWORD).unwrap_or_else(|e| panic!("{extra:?}: {e}"));
            assert_eq!(&c.private_key_pkcs8[..], &m.key_der[..], "{extra:?}");
            assert_eq!(c.certificate, m.cert_der, "{extra:?}");
            assert_eq!(c.chain, vec![m.ca_der.clone()], "{extra:?}");
            assert_eq!(c.friendly_name.as_deref(), Some("Кілт"), "{extra:?}");
            assert!(
                matches!(
                    open_pkcs12(&bytes, "Құпия сөз 2"),
                    Err(KeyStoreError::WrongPassword)
                ),
                "{extra:?}"
            );
        }
    }
}

#[test]
fn openssl_stores_without_mac_encryption_or_password_open() {
    let m = ec();
    let cases: &[(&str, &[&str])] = &[
        // Plain keyBag and certificates in a data ContentInfo, no MAC: any password opens it.
        (
            "whatever",
            &[
                "-keypbe", "NONE", "-certpbe", "NONE", "-nomac", "-passout", "pass:x",
            ],
        ),
        // An empty password.
        ("", &["-passout", "pass:"]),
        ("", &["-legacy", "-passout", "pass:"]),
    ];
    for (i, (password, extra)) in cases.iter().enumerate() {
        let p12 = m.dir.path().join(format!("plain-{i}.p12"));
        let mut args = vec![
            "pkcs12",
            "-export",
            "-inkey",
            path_str(&m.key_pem),
            "-in",
            path_str(&m.cert_pem),
            "-out",
            path_str(&p12),
        ];
        args.extend_from_slice(extra);
        openssl(&args);
        let c = open_pkcs12(&std::fs::read(&p12).unwrap(), password)
            .unwrap_or_else(|e| panic!("{extra:?}: {e}"));
        assert_eq!(&c.private_key_pkcs8[..], &m.key_der[..], "{extra:?}");
        assert_eq!(c.certificate, m.cert_der, "{extra:?}");
        assert!(c.chain.is_empty());
    }
}

// ---------------------------------------------------------------- keys at rest

#[test]
fn encrypted_private_key_opens_in_openssl() {
    for m in [rsa(), ec()] {
        let encrypted = encrypt_private_key(&m.key_der, PASSWORD.as_bytes()).unwrap();
        let file = m.file("key.enc.der", &encrypted);
        let pass = format!("pass:{PASSWORD}");
        let public = openssl(&[
            "pkey",
            "-in",
            path_str(&file),
            "-inform",
            "DER",
            "-passin",
            &pass,
            "-pubout",
        ]);
        assert_eq!(public, m.cert_public_key());
        let (ok, _, _) = openssl_run(
            &[
                "pkey",
                "-in",
                path_str(&file),
                "-inform",
                "DER",
                "-passin",
                "pass:wrong",
                "-pubout",
            ],
            None,
        );
        assert!(!ok, "OpenSSL decrypted with a wrong passphrase");
    }
}

#[test]
fn openssl_encrypted_private_keys_decrypt() {
    let variants: &[&[&str]] = &[
        &["-v2", "aes-256-cbc"],
        &["-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1"],
        &["-v2", "aes-192-cbc", "-v2prf", "hmacWithSHA512"],
        &["-v2", "des3"],
        &["-scrypt"],
        &["-v1", "PBE-SHA1-3DES"],
    ];
    for m in [rsa(), ec()] {
        for extra in variants {
            let pass = format!("pass:{PASSWORD}");
            let mut args = vec![
                "pkcs8",
                "-topk8",
                "-in",
                path_str(&m.key_pem),
                "-outform",
                "DER",
                "-passout",
                &pass,
            ];
            args.extend_from_slice(extra);
            let encrypted = openssl(&args);
            let key = decrypt_private_key(&encrypted, PASSWORD.as_bytes())
                .unwrap_or_else(|e| panic!("{extra:?}: {e}"));
            assert_eq!(&key[..], &m.key_der[..], "{extra:?}");
            assert!(
                matches!(
                    decrypt_private_key(&encrypted, b"wrong"),
                    Err(KeyStoreError::WrongPassword)
                ),
                "{extra:?}"
            );
        }
    }
}
