//! PEM wrapped at 76 columns (what `base64` and Python write; OpenSSL reads it), or on one
//! line, is read like OpenSSL's 64 (issue 12, item 7): certificates, CRLs and signatures.

use base64::Engine;
use qoltanba::x509::crl::Crl;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/nca/rsa/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// DER (or the DER inside a PEM) as PEM with base64 lines of `width` characters.
fn pem(label: &str, der: &[u8], width: usize) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<String> = b64
        .as_bytes()
        .chunks(width)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
    .into_bytes()
}

#[test]
fn certificates_and_crls_in_pem_of_any_line_length_are_read() {
    let cert = qoltanba::x509::decode_der(&fixture("nca_rsa_test.crt")).expect("the NCA CA");
    let crl = fixture("nca_rsa_test.crl");
    let crl = qoltanba::x509::decode_der(&crl).expect("the NCA CRL");
    for width in [64, 76, 100_000] {
        let read = qoltanba::verify::read_certificate(&pem("CERTIFICATE", &cert, width))
            .unwrap_or_else(|e| panic!("certificate at {width}: {e}"));
        assert_eq!(read.der, cert, "{width}");
        let parsed = Crl::parse(&pem("X509 CRL", &crl, width))
            .unwrap_or_else(|e| panic!("CRL at {width}: {e}"));
        assert_eq!(parsed.number(), Crl::parse(&crl).expect("DER").number());
    }
    // A PEM block that is cut short is still refused.
    let mut cut = pem("X509 CRL", &crl, 76);
    cut.truncate(cut.len() / 2);
    assert!(Crl::parse(&cut).is_err());
}
