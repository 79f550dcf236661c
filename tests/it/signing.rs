//! Signing with the OpenSSL CLI, an independent peer: what OpenSSL signs, we verify.

use std::path::{Path, PathBuf};

use crate::common::{openssl_ok, write};

/// A key and certificate as PEM files, taken out of a PKCS#12.
pub(crate) struct Signer {
    pub key: PathBuf,
    pub cert: PathBuf,
}

impl Signer {
    pub(crate) fn from_pkcs12(
        p12: &[u8],
        password: &str,
        dir: &Path,
        name: &str,
        legacy: bool,
    ) -> Signer {
        let p12_path = write(&dir.join(format!("{name}.p12")), p12);
        let pass = format!("pass:{password}");
        let mut base = vec!["pkcs12", "-in", p12_path.as_str(), "-passin", pass.as_str()];
        if legacy {
            base.push("-legacy");
        }
        let key = openssl_ok(&[base.clone(), vec!["-nocerts", "-nodes"]].concat());
        let cert = openssl_ok(&[base, vec!["-clcerts", "-nokeys"]].concat());
        Signer {
            key: PathBuf::from(write(&dir.join(format!("{name}.key")), key)),
            cert: PathBuf::from(write(&dir.join(format!("{name}.crt")), cert)),
        }
    }

    /// `openssl cms -sign -binary`: attached unless `detached`, `extra` flags such as
    /// ["-md", "sha1"], ["-nocerts"] or ["-noattr"]. Returns the DER.
    pub(crate) fn sign(
        &self,
        content: &[u8],
        dir: &Path,
        detached: bool,
        extra: &[&str],
    ) -> Vec<u8> {
        let input = write(&dir.join("content.bin"), content);
        let output = dir.join("signature.p7s");
        let out = output.to_str().expect("utf-8").to_owned();
        let (cert, key) = (
            self.cert.to_str().expect("p"),
            self.key.to_str().expect("p"),
        );
        let mut args = vec![
            "cms",
            "-sign",
            "-binary",
            "-in",
            input.as_str(),
            "-signer",
            cert,
            "-inkey",
            key,
            "-outform",
            "DER",
            "-out",
            out.as_str(),
        ];
        if !detached {
            args.push("-nodetach");
        }
        args.extend_from_slice(extra);
        openssl_ok(&args);
        std::fs::read(&output).expect("signature written")
    }
}
