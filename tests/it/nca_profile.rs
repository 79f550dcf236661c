//! Our certificates against real NCA RK test certificates, field by field: equal in everything
//! but keys, dates, names and URLs.

use der::asn1::Any;
use der::{Decode, Encode, Tagged};
use x509_cert::ext::pkix::certpolicy::CertificatePolicies;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, ExtendedKeyUsage};
use x509_cert::name::Name;
use x509_cert::Certificate;

use crate::common::*;

fn fixture(path: &str) -> Certificate {
    let bytes = std::fs::read(format!(
        "{}/fixtures/nca/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture present");
    match std::str::from_utf8(&bytes) {
        Ok(text) if text.starts_with("-----BEGIN") => {
            let (_, der) = der::pem::decode_vec(text.as_bytes()).expect("pem");
            Certificate::from_der(&der).expect("certificate")
        }
        _ => Certificate::from_der(&bytes).expect("certificate"),
    }
}

fn dn_shape(name: &Name) -> Vec<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .map(|atv| format!("{} {:?}", atv.oid, atv.value.tag()))
        .collect()
}

fn uris(names: &[GeneralName]) -> String {
    names
        .iter()
        .map(|n| match n {
            GeneralName::UniformResourceIdentifier(u) => {
                assert!(u.as_str().starts_with("http://"), "{u}");
                "URI".to_owned()
            }
            other => format!("{other:?}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn dps(value: &[u8]) -> String {
    let points = Vec::<DistributionPoint>::from_der(value).expect("distribution points");
    points
        .iter()
        .map(|p| match &p.distribution_point {
            Some(DistributionPointName::FullName(names)) => {
                format!(
                    "fullName[{}] reasons={:?} issuer={:?}",
                    uris(names),
                    p.reasons,
                    p.crl_issuer
                )
            }
            other => format!("{other:?}"),
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn any_shape(any: &Any) -> String {
    // Tag and, for a SEQUENCE, the tags inside: e.g. UserNotice's explicitText string type.
    if any.tag() == der::Tag::Sequence {
        let mut reader = der::SliceReader::new(any.value()).expect("reader");
        let mut inner = Vec::new();
        while let Ok(item) = Any::decode(&mut reader) {
            inner.push(format!("{:?}", item.tag()));
        }
        format!("Sequence[{}]", inner.join(","))
    } else {
        format!("{:?}", any.tag())
    }
}

/// Everything about a certificate except keys, dates, names and URLs.
fn shape(cert: &Certificate) -> Vec<String> {
    let tbs = &cert.tbs_certificate;
    let mut out = vec![
        format!("version {:?}", tbs.version),
        format!("serial {} bytes", tbs.serial_number.as_bytes().len()),
        format!(
            "signature {} params {:?}",
            tbs.signature.oid,
            tbs.signature.parameters.as_ref().map(|p| p.tag())
        ),
        format!(
            "outer signature same as inner: {}",
            cert.signature_algorithm == tbs.signature
        ),
        format!("issuer {:?}", dn_shape(&tbs.issuer)),
        format!("subject {:?}", dn_shape(&tbs.subject)),
        format!(
            "validity {:?} {:?}",
            tbs.validity.not_before.to_der().expect("der")[0],
            tbs.validity.not_after.to_der().expect("der")[0]
        ),
        format!(
            "spki {} params {:?}",
            tbs.subject_public_key_info.algorithm.oid,
            tbs.subject_public_key_info
                .algorithm
                .parameters
                .as_ref()
                .map(|p| p.tag())
        ),
        format!(
            "unique ids {:?} {:?}",
            tbs.issuer_unique_id.is_some(),
            tbs.subject_unique_id.is_some()
        ),
    ];
    for ext in tbs.extensions.as_deref().unwrap_or_default() {
        let value = ext.extn_value.as_bytes();
        let detail = match ext.extn_id.to_string().as_str() {
            "2.5.29.15" => format!("keyUsage {}", hex::encode(value)),
            "2.5.29.37" => format!(
                "eku {:?}",
                ExtendedKeyUsage::from_der(value)
                    .expect("eku")
                    .0
                    .iter()
                    .map(|o| o.to_string())
                    .collect::<Vec<_>>()
            ),
            "2.5.29.35" => {
                let aki = AuthorityKeyIdentifier::from_der(value).expect("aki");
                format!(
                    "aki keyid {:?} issuer {} serial {}",
                    aki.key_identifier.map(|k| k.as_bytes().len()),
                    aki.authority_cert_issuer.is_some(),
                    aki.authority_cert_serial_number.is_some()
                )
            }
            "2.5.29.14" => format!("ski {} bytes", value.len() - 2),
            "2.5.29.32" => {
                let policies = CertificatePolicies::from_der(value).expect("policies");
                policies
                    .0
                    .iter()
                    .map(|p| {
                        let qualifiers: Vec<String> = p
                            .policy_qualifiers
                            .iter()
                            .flatten()
                            .map(|q| {
                                format!(
                                    "{}={}",
                                    q.policy_qualifier_id,
                                    q.qualifier.as_ref().map(any_shape).unwrap_or_default()
                                )
                            })
                            .collect();
                        format!("policy {} {:?}", p.policy_identifier, qualifiers)
                    })
                    .collect::<Vec<_>>()
                    .join(";")
            }
            "2.5.29.31" => format!("crlDistributionPoints {}", dps(value)),
            "2.5.29.46" => format!("freshestCRL {}", dps(value)),
            "1.3.6.1.5.5.7.1.1" => {
                let aia = AuthorityInfoAccessSyntax::from_der(value).expect("aia");
                let methods: Vec<String> = aia
                    .0
                    .iter()
                    .map(|a| {
                        format!(
                            "{}:{}",
                            a.access_method,
                            uris(std::slice::from_ref(&a.access_location))
                        )
                    })
                    .collect();
                format!("aia {methods:?}")
            }
            other => format!("other {other}"),
        };
        out.push(format!(
            "ext {} critical={} {detail}",
            ext.extn_id, ext.critical
        ));
    }
    out
}

async fn issued(t: &TestPki, profile: &str) -> Certificate {
    let mut request = if profile.starts_with("individual") {
        individual(profile)
    } else {
        legal(profile)
    };
    // NCA's own test subscribers carry numbers that fail the check digit; use one of theirs.
    request.iin = Some("123456789011".into());
    request.allow_invalid_check_digit = true;
    let issued = t.issue(request).await;
    Certificate::from_der(&issued.record.certificate).expect("parse ours")
}

#[tokio::test]
async fn an_individual_signing_certificate_has_the_shape_of_ncas() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let ours = issued(&t, "individual-sign").await;
    let theirs = fixture("rsa/individual_valid_sign.pem");
    assert_eq!(shape(&ours), shape(&theirs));
    // And the subject reads as NCA's does, attribute for attribute.
    let subject = qoltanba::pki::name::display(&ours.tbs_certificate.subject);
    assert_eq!(
        subject,
        "CN=ТЕСТОВ ТЕСТ, SURNAME=ТЕСТОВ, SERIALNUMBER=IIN123456789011, C=KZ, GIVENNAME=ТЕСТОВИЧ"
    );
    assert_eq!(
        subject,
        qoltanba::pki::name::display(&theirs.tbs_certificate.subject)
    );
}

#[tokio::test]
async fn an_individual_auth_certificate_has_the_shape_of_ncas() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let ours = issued(&t, "individual-auth").await;
    assert_eq!(
        shape(&ours),
        shape(&fixture("rsa/individual_auth_revoked.pem"))
    );
}

#[tokio::test]
async fn a_legal_entity_subject_is_ordered_and_typed_as_ncas() {
    // NCA's published legal-entity certificates are GOST ones: compare the subject, whose shape
    // does not depend on the algorithm, and the role OIDs in the EKU.
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let ours = issued(&t, "legal-head-sign").await;
    let theirs = fixture("gost/legal_valid_head.cer");
    assert_eq!(
        dn_shape(&ours.tbs_certificate.subject),
        dn_shape(&theirs.tbs_certificate.subject)
    );
    let eku = |c: &Certificate| {
        shape(c)
            .into_iter()
            .find(|l| l.starts_with("ext 2.5.29.37"))
            .expect("eku present")
    };
    assert_eq!(eku(&ours), eku(&theirs));
}

#[tokio::test]
async fn every_role_profile_carries_its_role_oid_and_a_signing_key_usage() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let roles = [
        ("legal-head-sign", "1.2.398.3.3.4.1.2.1"),
        ("legal-signer-sign", "1.2.398.3.3.4.1.2.2"),
        ("legal-financial-sign", "1.2.398.3.3.4.1.2.3"),
        ("legal-hr-sign", "1.2.398.3.3.4.1.2.4"),
        ("legal-employee-sign", "1.2.398.3.3.4.1.2.5"),
        ("official-sign", "1.2.398.3.3.4.1.2.2"),
    ];
    for (profile, role) in roles {
        let cert = issued(&t, profile).await;
        let lines = shape(&cert);
        let eku = lines
            .iter()
            .find(|l| l.starts_with("ext 2.5.29.37"))
            .expect("eku");
        assert!(
            eku.contains(role) && eku.contains("1.2.398.3.3.4.1.2\""),
            "{profile}: {eku}"
        );
        assert!(
            lines.contains(&"ext 2.5.29.15 critical=true keyUsage 030206c0".to_owned()),
            "{profile}: {lines:?}"
        );
        assert!(
            lines.iter().any(|l| l.contains("policy 1.2.398.3.3.2.1 ")),
            "{profile}: {lines:?}"
        );
    }
    // An information system: no IIN, CN is the system's name, UID optional.
    let mut request = legal("infosystem-sign");
    request.iin = None;
    request.surname = None;
    request.given_name = None;
    request.patronymic = None;
    request.common_name = Some("Е-ЛИЦЕНЗИРОВАНИЕ".into());
    request.uid = Some("elicense".into());
    let record = t.issue(request).await.record;
    assert_eq!(
        record.subject,
        "UID=elicense, CN=Е-ЛИЦЕНЗИРОВАНИЕ, C=KZ, O=АО \"ҚОЛТАҢБА ТЕСТ\", OU=BIN940140000385"
    );
    assert_eq!(record.iin, None);
}

#[tokio::test]
async fn the_issuing_ca_is_shaped_like_ncas_issuing_ca() {
    let t = TestPki::new(Backend::Sqlite).await.expect("sqlite");
    let ours = Certificate::from_der(t.pki.ca_chain()[0]).expect("issuing CA");
    let theirs = fixture("rsa/nca_rsa_test.crt");
    let ours = shape(&ours);
    let theirs = shape(&theirs);
    // NCA's AKI also names the root by issuer and serial; ours names it by key id only, which
    // RFC 5280 prefers. Everything else must agree.
    let without_aki = |v: &[String]| -> Vec<String> {
        v.iter()
            .filter(|l| !l.starts_with("ext 2.5.29.35"))
            .cloned()
            .collect()
    };
    assert_eq!(without_aki(&ours), without_aki(&theirs));
    assert!(
        ours.iter().any(|l| l.contains("policy 1.2.398.3.3.1.1 ")),
        "{ours:?}"
    );
}
