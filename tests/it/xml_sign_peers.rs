//! Independent verifiers accept what `sign::xml` makes: Debian's `xmlsec1` (libxmlsec1 on
//! OpenSSL) and python's `signxml` (tests/interop/signxml_peer.py), for RSA and ECDSA P-256 keys
//! issued by the test PKI: enveloped signatures chained to its root, two signatures nested as
//! Kalkan nests them, and WS-Security envelopes. One changed character of the signed content and
//! both refuse. A missing peer fails the test unless QOLTANBA_SKIP_PEERS is set.

use std::path::Path;
use std::process::Command;

use qoltanba::crypto::KeyAlgorithm;
use qoltanba::sign::{identity_from_pkcs12, xml, SignerIdentity};

use crate::common::*;

/// A document with what canonicalisation has to get right: a default and a prefixed
/// namespace, attributes out of order, references, CDATA, Kazakh text, a comment, line ends.
const DOCUMENT: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n\
<request xmlns=\"urn:qoltanba:test\" xmlns:kz=\"urn:kz\" z=\"2\" a='1'>\r\n\
  <kz:applicant iin=\"900517312343\">Қолтаңба &amp; &#x41;</kz:applicant>\n\
  <!-- a comment -->\n\
  <note><![CDATA[a < b]]></note><empty/>\n\
</request>\n";

const SOAP: &str = "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">\n\
<soap:Body>\n  <m:GetStatus xmlns:m=\"urn:gateway\"><m:iin>900517312343</m:iin></m:GetStatus>\n\
</soap:Body>\n</soap:Envelope>\n";

/// Whether the peer runs here. A missing peer fails the test unless QOLTANBA_SKIP_PEERS is set.
fn peer_present(name: &str, probe: &mut Command) -> bool {
    if probe.output().is_ok_and(|o| o.status.success()) {
        return true;
    }
    assert!(
        std::env::var_os("QOLTANBA_SKIP_PEERS").is_some(),
        "{name} is needed for the XML interop tests (Debian: apt-get install xmlsec1; \
         pip install signxml==5.2.0); set QOLTANBA_SKIP_PEERS=1 to skip them"
    );
    eprintln!("{name} is missing: its checks are skipped (QOLTANBA_SKIP_PEERS)");
    false
}

fn peers() -> (bool, bool) {
    (
        peer_present("xmlsec1", Command::new("xmlsec1").arg("--version")),
        peer_present(
            "python signxml",
            Command::new("python3").args(["-c", "import signxml"]),
        ),
    )
}

/// Runs a peer; returns whether it exited 0, and what it said.
fn run(program: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(program).args(args).output().expect("run peer");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

fn xmlsec1(args: &[&str]) -> (bool, String) {
    let mut all = vec!["--verify"];
    all.extend_from_slice(args);
    run("xmlsec1", &all)
}

fn signxml(args: &[&str]) -> (bool, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/signxml_peer.py");
    let mut all = vec![script];
    all.extend_from_slice(args);
    run("python3", &all)
}

/// An official's signing key of `algorithm`, issued by the test PKI.
async fn signer(t: &TestPki, algorithm: KeyAlgorithm) -> SignerIdentity {
    let mut request = legal("official-sign");
    request.key = Some(algorithm);
    let issued = t.issue(request).await;
    identity_from_pkcs12(&issued.pkcs12, P12_PASSWORD, qoltanba::time::now()).expect("identity")
}

fn pem_file(dir: &Path, name: &str, der: &[u8]) -> String {
    write(
        &dir.join(name),
        qoltanba::pki::certificate::pem(der).expect("pem"),
    )
}

/// One changed character of the signed content.
fn tampered(signed: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = std::str::from_utf8(signed).expect("UTF-8");
    assert!(text.contains(from));
    text.replacen(from, to, 1).into_bytes()
}

#[tokio::test]
async fn xml_sign_enveloped_rsa_and_p256_verify_in_xmlsec1_and_signxml() {
    let (has_xmlsec1, has_signxml) = peers();
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let (issuing, root) = t.ca_files();
    let (issuing, root) = (issuing.to_str().expect("p"), root.to_str().expect("p"));
    let dir = t.dir.path();
    let bundle = write(
        &dir.join("bundle.pem"),
        [
            std::fs::read(root).expect("root"),
            std::fs::read(issuing).expect("issuing"),
        ]
        .concat(),
    );
    let chain = ["--trusted-pem", root, "--untrusted-pem", issuing];
    let rsa = signer(&t, KeyAlgorithm::Rsa2048).await;
    let p256 = signer(&t, KeyAlgorithm::P256).await;
    for (name, signer) in [("rsa", &rsa), ("p256", &p256)] {
        let signed = xml::sign_enveloped(DOCUMENT.as_bytes(), signer).expect("sign");
        let good = write(&dir.join(format!("{name}.xml")), &signed);
        let bad = write(
            &dir.join(format!("{name}.tampered.xml")),
            tampered(&signed, "&amp; &#x41;", "&amp; &#x42;"),
        );
        if has_xmlsec1 {
            let (ok, said) = xmlsec1(&[&chain[..], &[good.as_str()]].concat());
            assert!(ok, "{name}: xmlsec1 refuses ours:\n{said}");
            let (ok, said) = xmlsec1(&[&chain[..], &[bad.as_str()]].concat());
            assert!(!ok, "{name}: xmlsec1 accepts a changed character:\n{said}");
        }
        if has_signxml {
            let (ok, said) = signxml(&[&good, "--ca", &bundle]);
            assert!(ok, "{name}: signxml refuses ours:\n{said}");
            let (ok, said) = signxml(&[&bad, "--ca", &bundle]);
            assert!(!ok, "{name}: signxml accepts a changed character:\n{said}");
        }
    }

    // RSA, then P-256 over it: the last covers the first; each verifies as Kalkan's do, the
    // last in the whole document, the first once the last is taken out.
    let once = xml::sign_enveloped(DOCUMENT.as_bytes(), &rsa).expect("sign");
    let twice = xml::sign_enveloped(&once, &p256).expect("sign");
    assert!(twice.starts_with(&once[..once.len() - "</request>\n".len()]));
    let both = write(&dir.join("both.xml"), &twice);
    let first = write(&dir.join("first.xml"), &once);
    let bad = write(
        &dir.join("both.tampered.xml"),
        tampered(
            &twice,
            "<ds:X509Certificate>\nMII",
            "<ds:X509Certificate>\nMIJ",
        ),
    );
    let last = "(//*[local-name()='Signature'])[last()]";
    if has_xmlsec1 {
        let (ok, said) = xmlsec1(&[&chain[..], &["--node-xpath", last, &both]].concat());
        assert!(ok, "xmlsec1 refuses the second signature:\n{said}");
        let (ok, said) = xmlsec1(&[&chain[..], &[first.as_str()]].concat());
        assert!(ok, "xmlsec1 refuses the first signature:\n{said}");
        // The first signature's certificate is covered by the second's digest.
        let (ok, said) = xmlsec1(&[&chain[..], &["--node-xpath", last, &bad]].concat());
        assert!(!ok, "xmlsec1 accepts a changed earlier signature:\n{said}");
    }
    if has_signxml {
        let (ok, said) = signxml(&[&both, "--ca", &bundle, "--last"]);
        assert!(ok, "signxml refuses the second signature:\n{said}");
        let (ok, said) = signxml(&[&bad, "--ca", &bundle, "--last"]);
        assert!(!ok, "signxml accepts a changed earlier signature:\n{said}");
    }
}

#[tokio::test]
async fn xml_sign_wsse_rsa_and_p256_verify_in_xmlsec1_and_signxml() {
    let (has_xmlsec1, has_signxml) = peers();
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let dir = t.dir.path();
    for algorithm in [KeyAlgorithm::Rsa2048, KeyAlgorithm::P256] {
        let signer = signer(&t, algorithm).await;
        let cert = pem_file(dir, "signer.pem", &signer.certificate_der);
        let signed = xml::sign_wsse(SOAP.as_bytes(), &signer).expect("sign");
        let good = write(&dir.join("soap.xml"), &signed);
        let bad = write(
            &dir.join("soap.tampered.xml"),
            tampered(&signed, "900517312343", "900517312344"),
        );
        // xmlsec1 knows no SecurityTokenReference: the key is given; the Body's wsu:Id is
        // declared an ID.
        let xmlsec_args = [
            "--pubkey-cert-pem",
            &cert,
            "--id-attr:Id",
            "http://schemas.xmlsoap.org/soap/envelope/:Body",
        ];
        if has_xmlsec1 {
            let (ok, said) = xmlsec1(&[&xmlsec_args[..], &[good.as_str()]].concat());
            assert!(ok, "{algorithm}: xmlsec1 refuses ours:\n{said}");
            let (ok, said) = xmlsec1(&[&xmlsec_args[..], &[bad.as_str()]].concat());
            assert!(
                !ok,
                "{algorithm}: xmlsec1 accepts a changed character:\n{said}"
            );
        }
        if has_signxml {
            let (ok, said) = signxml(&[&good, "--cert", &cert]);
            assert!(ok, "{algorithm}: signxml refuses ours:\n{said}");
            let (ok, said) = signxml(&[&bad, "--cert", &cert]);
            assert!(
                !ok,
                "{algorithm}: signxml accepts a changed character:\n{said}"
            );
        }
    }
}
