//! What independent signers make, we judge correctly: XML signed by Debian's `xmlsec1`
//! (libxmlsec1) and python's `signxml` with keys of our test PKI — enveloped with `URI=""`,
//! by `#id`, inclusive, exclusive and C14N 1.1; RSA PKCS#1, RSA-PSS (signxml) and ECDSA — is
//! valid, and after one changed character it is not. SHA-1 from xmlsec1 is refused as for
//! CMS. A missing peer fails the test unless QOLTANBA_SKIP_PEERS is set.

use std::path::Path;
use std::process::Command;

use qoltanba::crypto::KeyAlgorithm;
use qoltanba::verify::{Report, Request, Verdict};

use crate::common::*;
use crate::signing::Signer;
use crate::xml_sign_peers::peer_present;

const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// An xmlsec1 template: the document with an empty enveloped signature to fill.
fn template(id: Option<&str>, c14n: &str, method: &str, digest: &str) -> String {
    let (id_attr, uri) = match id {
        Some(id) => (format!(" Id=\"{id}\""), format!("#{id}")),
        None => (String::new(), String::new()),
    };
    format!(
        "<request{id_attr}>\n  <service>license</service>\n  <iin>{iin}</iin>\n\
         <Signature xmlns=\"{DSIG}\"><SignedInfo><CanonicalizationMethod Algorithm=\"{c14n}\"/>\
         <SignatureMethod Algorithm=\"{method}\"/><Reference URI=\"{uri}\"><Transforms>\
         <Transform Algorithm=\"{DSIG}enveloped-signature\"/><Transform Algorithm=\"{c14n}\"/>\
         </Transforms><DigestMethod Algorithm=\"{digest}\"/><DigestValue/></Reference></SignedInfo>\
         <SignatureValue/><KeyInfo><X509Data><X509Certificate/></X509Data></KeyInfo></Signature>\
         </request>\n",
        iin = valid_iin()
    )
}

fn run(program: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(program).args(args).output().expect("run peer");
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn xmlsec1_sign(dir: &Path, signer: &Signer, template: &str, name: &str) -> Vec<u8> {
    let input = write(&dir.join(format!("{name}.tmpl.xml")), template.as_bytes());
    let output = dir.join(format!("{name}.xml"));
    let key = format!(
        "{},{}",
        signer.key.to_str().expect("utf-8"),
        signer.cert.to_str().expect("utf-8")
    );
    run(
        "xmlsec1",
        &[
            "--sign",
            "--privkey-pem",
            &key,
            "--id-attr:Id",
            "request",
            "--output",
            output.to_str().expect("utf-8"),
            &input,
        ],
    );
    std::fs::read(output).expect("signed")
}

fn signxml_sign(
    dir: &Path,
    signer: &Signer,
    document: &str,
    algorithm: &str,
    extra: &[&str],
) -> Vec<u8> {
    let input = write(&dir.join("signxml.in.xml"), document.as_bytes());
    let output = dir.join("signxml.out.xml");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/signxml_sign.py");
    let mut args = vec![
        script,
        input.as_str(),
        output.to_str().expect("utf-8"),
        signer.key.to_str().expect("utf-8"),
        signer.cert.to_str().expect("utf-8"),
        algorithm,
    ];
    args.extend_from_slice(extra);
    run("python3", &args);
    std::fs::read(output).expect("signed")
}

async fn verify(t: &TestPki, signature: Vec<u8>) -> Report {
    t.state()
        .verifier
        .verify(&Request {
            signature,
            ..Request::default()
        })
        .await
}

/// Valid as signed, and not valid once the service name changes by one letter.
async fn valid_then_tampered(t: &TestPki, signed: Vec<u8>, what: &str) {
    let report = verify(t, signed.clone()).await;
    assert_eq!(report.verdict, Verdict::Valid, "{what}: {report:#?}");
    assert_eq!(
        report.signers[0].covers,
        vec!["/request".to_owned()],
        "{what}"
    );
    assert_eq!(report.expected_identity.source, "content", "{what}");
    let text = String::from_utf8(signed).expect("utf-8");
    let tampered = text.replacen("<service>license<", "<service>licensE<", 1);
    assert_ne!(tampered, text, "{what}");
    let report = verify(t, tampered.into_bytes()).await;
    assert_eq!(
        report.sub_indication,
        Some("HASH_FAILURE"),
        "{what}: {report:#?}"
    );
}

async fn signer(t: &TestPki, key: KeyAlgorithm, name: &str) -> Signer {
    let mut request = individual("individual-sign");
    request.key = Some(key);
    let issued = t.issue(request).await;
    Signer::from_pkcs12(&issued.pkcs12, P12_PASSWORD, t.dir.path(), name, false)
}

const INCLUSIVE: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
const EXCLUSIVE: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const ECDSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";

#[tokio::test]
async fn what_xmlsec1_signs_over_our_pki_we_verify_and_refuse_once_changed() {
    if !peer_present("xmlsec1", Command::new("xmlsec1").arg("--version")) {
        return;
    }
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let rsa = signer(&t, KeyAlgorithm::Rsa2048, "xmlsec-rsa").await;
    let p256 = signer(&t, KeyAlgorithm::P256, "xmlsec-p256").await;
    let dir = t.dir.path();
    for (name, who, tmpl) in [
        (
            "rsa-enveloped-inclusive",
            &rsa,
            template(None, INCLUSIVE, RSA_SHA256, SHA256),
        ),
        (
            "rsa-id-exclusive",
            &rsa,
            template(Some("req"), EXCLUSIVE, RSA_SHA256, SHA256),
        ),
        (
            "p256-id-exclusive",
            &p256,
            template(Some("req"), EXCLUSIVE, ECDSA_SHA256, SHA256),
        ),
    ] {
        let signed = xmlsec1_sign(dir, who, &tmpl, name);
        valid_then_tampered(&t, signed, name).await;
    }
    // SHA-1, which xmlsec1 still makes: refused as for CMS.
    let sha1 = template(
        None,
        INCLUSIVE,
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        "http://www.w3.org/2000/09/xmldsig#sha1",
    );
    let report = verify(&t, xmlsec1_sign(dir, &rsa, &sha1, "rsa-sha1")).await;
    assert_eq!(
        report.sub_indication,
        Some("CRYPTO_CONSTRAINTS_FAILURE"),
        "{report:#?}"
    );
    let signature = report.signers[0]
        .checks
        .iter()
        .find(|c| c.id == "signature")
        .expect("step");
    assert_eq!(signature.code, "WEAK_DIGEST");
}

#[tokio::test]
async fn what_signxml_signs_over_our_pki_we_verify_and_refuse_once_changed() {
    if !peer_present(
        "python signxml",
        Command::new("python3").args(["-c", "import signxml"]),
    ) {
        return;
    }
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let rsa = signer(&t, KeyAlgorithm::Rsa2048, "signxml-rsa").await;
    let p256 = signer(&t, KeyAlgorithm::P256, "signxml-p256").await;
    let dir = t.dir.path();
    let plain = format!(
        "<request xmlns=\"urn:example:license\">\n  <service>license</service>\n  <iin>{}</iin>\n</request>\n",
        valid_iin()
    );
    let with_id = plain.replacen("<request ", "<request Id=\"req\" ", 1);
    for (name, who, algorithm, document, extra) in [
        (
            "rsa, URI=\"\", C14N 1.1",
            &rsa,
            "rsa-sha256",
            &plain,
            &[][..],
        ),
        (
            "rsa, #id, exclusive",
            &rsa,
            "rsa-sha256",
            &with_id,
            &["--id", "req", "--exclusive"][..],
        ),
        (
            "p256, #id, C14N 1.1",
            &p256,
            "ecdsa-sha256",
            &with_id,
            &["--id", "req"][..],
        ),
        (
            "rsa-pss (RFC 6931 MGF1), URI=\"\"",
            &rsa,
            "sha256-rsa-MGF1",
            &plain,
            &[][..],
        ),
    ] {
        let signed = signxml_sign(dir, who, document, algorithm, extra);
        valid_then_tampered(&t, signed, name).await;
    }
}
