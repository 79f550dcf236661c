//! Hand-made certificates, CMS SignedData and CRLs for the hostile-input tests: assembled with
//! the RustCrypto types and signed with our own `SigningKey`, so that any field can be made to
//! lie while every signature stays genuine (the lie, not a broken signature, is what is tested).

use std::time::Duration;

use cms::cert::CertificateChoices;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::db::rfc5280;
use der::asn1::{Any, BitString, ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::{Decode, Encode};
use qoltanba::crypto::{KeyAlgorithm, SigningKey};
use qoltanba::verify::{MAX_CERTIFICATES, MAX_SIGNERS};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::attr::Attribute;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

pub(crate) const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub(crate) const ID_SIGNED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
pub(crate) const CONTENT_TYPE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
pub(crate) const MESSAGE_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
pub(crate) const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
pub(crate) const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
pub(crate) const ECDSA_SHA256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
pub(crate) const RSA_SHA256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
pub(crate) const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// 2020-01-01 … 2045-01-01 (UTCTime): every hand-made certificate is valid now.
const NOT_BEFORE: u64 = 1_577_836_800;
const NOT_AFTER: u64 = 2_366_841_600;

pub(crate) fn p256() -> SigningKey {
    SigningKey::generate(KeyAlgorithm::P256).expect("P-256 key")
}

/// An RFC 4514 name, e.g. "CN=HOSTILE ROOT,C=KZ".
pub(crate) fn name(text: &str) -> Name {
    text.parse().expect("RFC 4514 name")
}

pub(crate) fn identifier(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

pub(crate) fn extension(oid: ObjectIdentifier, critical: bool, value: &impl Encode) -> Extension {
    Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der().expect("extension value")).expect("octets"),
    }
}

pub(crate) fn time(secs: u64) -> Time {
    Time::UtcTime(UtcTime::from_unix_duration(Duration::from_secs(secs)).expect("UTCTime"))
}

/// basicConstraints CA (critical) and keyUsage keyCertSign + cRLSign (critical).
pub(crate) fn ca_extensions() -> Vec<Extension> {
    vec![
        extension(
            rfc5280::ID_CE_BASIC_CONSTRAINTS,
            true,
            &BasicConstraints {
                ca: true,
                path_len_constraint: None,
            },
        ),
        extension(
            rfc5280::ID_CE_KEY_USAGE,
            true,
            &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
        ),
    ]
}

/// keyUsage digitalSignature + nonRepudiation (critical).
pub(crate) fn leaf_extensions() -> Vec<Extension> {
    vec![extension(
        rfc5280::ID_CE_KEY_USAGE,
        true,
        &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
    )]
}

/// One certificate, signed by `issuer_key` over exactly the TBS it claims.
pub(crate) struct CertSpec<'a> {
    pub subject: Name,
    pub spki: SubjectPublicKeyInfoOwned,
    pub issuer: Name,
    pub issuer_key: &'a SigningKey,
    pub serial: Vec<u8>,
    pub extensions: Vec<Extension>,
    /// The signature algorithm the certificate names (default: the issuer key's own).
    pub claimed_algorithm: Option<AlgorithmIdentifierOwned>,
}

impl CertSpec<'_> {
    pub(crate) fn sign(&self) -> Vec<u8> {
        let algorithm = self
            .claimed_algorithm
            .clone()
            .unwrap_or_else(|| self.issuer_key.signature_algorithm().identifier());
        let tbs = TbsCertificate {
            version: Version::V3,
            serial_number: SerialNumber::new(&self.serial).expect("serial"),
            signature: algorithm.clone(),
            issuer: self.issuer.clone(),
            validity: Validity {
                not_before: time(NOT_BEFORE),
                not_after: time(NOT_AFTER),
            },
            subject: self.subject.clone(),
            subject_public_key_info: self.spki.clone(),
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: (!self.extensions.is_empty()).then(|| self.extensions.clone()),
        };
        sign_certificate(tbs, self.issuer_key)
    }
}

/// A certificate over exactly `tbs`, signed by `issuer_key` under the algorithm `tbs` names.
pub(crate) fn sign_certificate(tbs: TbsCertificate, issuer_key: &SigningKey) -> Vec<u8> {
    let signature = issuer_key
        .sign(&tbs.to_der().expect("TBS"))
        .expect("sign TBS");
    Certificate {
        signature_algorithm: tbs.signature.clone(),
        tbs_certificate: tbs,
        signature: BitString::from_bytes(&signature).expect("bits"),
    }
    .to_der()
    .expect("certificate DER")
}

/// A CA: its key, name and certificate.
pub(crate) struct Authority {
    pub key: SigningKey,
    pub name: Name,
    pub der: Vec<u8>,
}

impl Authority {
    /// A self-signed P-256 root.
    pub(crate) fn root(subject: &str) -> Authority {
        let key = p256();
        let name = name(subject);
        let der = CertSpec {
            subject: name.clone(),
            spki: key.public_key_info().expect("spki"),
            issuer: name.clone(),
            issuer_key: &key,
            serial: vec![1],
            extensions: ca_extensions(),
            claimed_algorithm: None,
        }
        .sign();
        Authority { key, name, der }
    }

    /// A P-256 CA below this one, with `extra` extensions after the CA ones.
    pub(crate) fn subordinate(
        &self,
        subject: &str,
        serial: u32,
        extra: Vec<Extension>,
    ) -> Authority {
        let key = p256();
        let name = name(subject);
        let mut extensions = ca_extensions();
        extensions.extend(extra);
        let der = self.issue(&name, &key, serial, extensions);
        Authority { key, name, der }
    }

    /// A certificate for `key` under `subject`, signed by this CA.
    pub(crate) fn issue(
        &self,
        subject: &Name,
        key: &SigningKey,
        serial: u32,
        extensions: Vec<Extension>,
    ) -> Vec<u8> {
        CertSpec {
            subject: subject.clone(),
            spki: key.public_key_info().expect("spki"),
            issuer: self.name.clone(),
            issuer_key: &self.key,
            serial: serial.to_be_bytes().to_vec(),
            extensions,
            claimed_algorithm: None,
        }
        .sign()
    }

    /// A CRL of this CA (valid from now − 1 h to now + 1 day) listing `revoked` serials. It
    /// says it keeps expired certificates (ExpiredCertsOnCRL 2000-01-01), so it speaks for the
    /// past validation times these tests use.
    pub(crate) fn crl(&self, revoked: &[u32]) -> Vec<u8> {
        let now = crate::openssl_pki::unix_now() as u64;
        let algorithm = self.key.signature_algorithm().identifier();
        let entries: Vec<RevokedCert> = revoked
            .iter()
            .map(|s| RevokedCert {
                serial_number: SerialNumber::new(&s.to_be_bytes()).expect("serial"),
                revocation_date: time(now - 3600),
                crl_entry_extensions: None,
            })
            .collect();
        let crl_number = der::asn1::Uint::new(&[7]).expect("number");
        let tbs = TbsCertList {
            version: Version::V2,
            signature: algorithm.clone(),
            issuer: self.name.clone(),
            this_update: time(now - 3600),
            next_update: Some(time(now + 86_400)),
            revoked_certificates: (!entries.is_empty()).then_some(entries),
            crl_extensions: Some(vec![
                extension(rfc5280::ID_CE_CRL_NUMBER, false, &crl_number),
                extension(
                    ObjectIdentifier::new_unwrap("2.5.29.60"),
                    false,
                    &der::asn1::GeneralizedTime::from_unix_duration(
                        std::time::Duration::from_secs(946_684_800),
                    )
                    .expect("time"),
                ),
            ]),
        };
        let signature = self.key.sign(&tbs.to_der().expect("TBS")).expect("sign");
        CertificateList {
            tbs_cert_list: tbs,
            signature_algorithm: algorithm,
            signature: BitString::from_bytes(&signature).expect("bits"),
        }
        .to_der()
        .expect("CRL DER")
    }
}

pub(crate) fn attribute(oid: ObjectIdentifier, values: Vec<Any>) -> Attribute {
    Attribute {
        oid,
        values: SetOfVec::try_from(values).expect("distinct values"),
    }
}

pub(crate) fn octets(bytes: &[u8]) -> Any {
    Any::encode_from(&OctetString::new(bytes.to_vec()).expect("octets")).expect("any")
}

pub(crate) fn oid_value(oid: ObjectIdentifier) -> Any {
    Any::encode_from(&oid).expect("any")
}

pub(crate) fn sha256(data: &[u8]) -> Vec<u8> {
    qoltanba::crypto::sha256(data).to_vec()
}

/// An attached CMS SignedData with one SignerInfo, every field open to lies.
pub(crate) struct Cms {
    pub content: Vec<u8>,
    pub econtent_type: ObjectIdentifier,
    /// The signer's certificate: its issuer and serial make the SignerIdentifier.
    pub signer_cert: Vec<u8>,
    /// The certificates carried in the CMS (by default the signer's).
    pub certificates: Vec<Vec<u8>>,
    pub digest_algorithm: ObjectIdentifier,
    pub signature_algorithm: AlgorithmIdentifierOwned,
    /// None: no signed attributes (the signature covers the content).
    pub signed_attrs: Option<Vec<Attribute>>,
}

impl Cms {
    /// SHA-256 with the key's own signature algorithm; signed attributes contentType id-data
    /// and the content's messageDigest.
    pub(crate) fn new(content: &[u8], signer_cert: &[u8], key: &SigningKey) -> Cms {
        Cms {
            content: content.to_vec(),
            econtent_type: ID_DATA,
            signer_cert: signer_cert.to_vec(),
            certificates: vec![signer_cert.to_vec()],
            digest_algorithm: SHA256,
            signature_algorithm: key.signature_algorithm().identifier(),
            signed_attrs: Some(vec![
                attribute(CONTENT_TYPE, vec![oid_value(ID_DATA)]),
                attribute(MESSAGE_DIGEST, vec![octets(&sha256(content))]),
            ]),
        }
    }

    /// Signs with `key` (whatever the identifiers say) and encodes the ContentInfo.
    pub(crate) fn sign(&self, key: &SigningKey) -> Vec<u8> {
        let cert = Certificate::from_der(&self.signer_cert).expect("signer certificate");
        let signed_attrs = self
            .signed_attrs
            .clone()
            .map(|a| SetOfVec::try_from(a).expect("distinct attributes"));
        let message = match &signed_attrs {
            Some(set) => set.to_der().expect("signed attributes"),
            None => self.content.clone(),
        };
        let signature = key.sign(&message).expect("sign");
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(cms::cert::IssuerAndSerialNumber {
                issuer: cert.tbs_certificate.issuer.clone(),
                serial_number: cert.tbs_certificate.serial_number.clone(),
            }),
            digest_alg: identifier(self.digest_algorithm),
            signed_attrs,
            signature_algorithm: self.signature_algorithm.clone(),
            signature: OctetString::new(signature).expect("signature"),
            unsigned_attrs: None,
        };
        let certificates = self
            .certificates
            .iter()
            .map(|d| CertificateChoices::Certificate(Certificate::from_der(d).expect("cert")))
            .collect::<Vec<_>>();
        let signed_data = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(vec![identifier(self.digest_algorithm)])
                .expect("set"),
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: self.econtent_type,
                econtent: Some(
                    Any::encode_from(&OctetString::new(self.content.clone()).expect("octets"))
                        .expect("any"),
                ),
            },
            certificates: (!certificates.is_empty())
                .then(|| CertificateSet(SetOfVec::try_from(certificates).expect("set"))),
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info]).expect("set")),
        };
        ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::encode_from(&signed_data).expect("any"),
        }
        .to_der()
        .expect("ContentInfo DER")
    }
}

/// Trusts `root`, offline, with the given CRLs (so that revocation can pass).
pub(crate) fn verifier(root: &Authority, crls: &[Vec<u8>]) -> qoltanba::verify::Verifier {
    qoltanba::verify::Verifier::new(qoltanba::verify::Settings {
        anchors: vec![("hostile root".into(), root.der.clone())],
        crls: crls
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("crl {i}"), c.clone()))
            .collect(),
        offline: true,
        ..qoltanba::verify::Settings::default()
    })
    .expect("verifier")
}

// Requests built to cost the verifier as much as the caps allow (issue 12), shared by
// `hostile::load` and `benches/hostile.rs`.

/// `cms_der` with its one SignerInfo repeated `signers` times and `certificates` certificates
/// carried: the signer's and others (distinct: a SET OF certificates holds no duplicates).
pub(crate) fn repeated(cms_der: &[u8], signers: usize, certificates: usize) -> Vec<u8> {
    let mut info = ContentInfo::from_der(cms_der).expect("ContentInfo");
    let mut signed: SignedData = info.content.decode_as().expect("SignedData");
    let si = signed
        .signer_infos
        .0
        .iter()
        .next()
        .expect("a signer")
        .clone();
    signed.signer_infos = SignerInfos::try_from(vec![si; signers]).expect("SET OF SignerInfo");
    let mut certs = signed
        .certificates
        .take()
        .expect("certificates")
        .0
        .into_vec();
    for i in certs.len()..certificates {
        let other = Authority::root(&format!("CN=BYSTANDER {i},C=KZ")).der;
        certs.push(CertificateChoices::Certificate(
            Certificate::from_der(&other).expect("certificate"),
        ));
    }
    signed.certificates = Some(CertificateSet::try_from(certs).expect("SET OF certificates"));
    info.content = der::Any::encode_from(&signed).expect("content");
    info.to_der().expect("DER")
}

/// The costliest CMS that fits within the caps: `MAX_SIGNERS` SignerInfos whose identifier
/// matches every one of half the certificate cap (same issuer and serial, each with another key,
/// none the signing key), and the other half CAs that all carry the name of the signers' issuer
/// (each a candidate issuer the chain search must check). Without a bound per request this is
/// MAX_SIGNERS × (64 + 64) public-key operations.
pub(crate) fn costliest_within_the_caps(content: &[u8]) -> Vec<u8> {
    let issuer = Authority::root("CN=HOSTILE ISSUER,C=KZ");
    let half = MAX_CERTIFICATES / 2;
    let signer_name = name("CN=HOSTILE SIGNER,C=KZ");
    let mut certificates: Vec<Vec<u8>> = (0..half)
        .map(|_| issuer.issue(&signer_name, &p256(), 1, leaf_extensions()))
        .collect();
    for _ in 0..half {
        let key = p256();
        certificates.push(
            CertSpec {
                subject: issuer.name.clone(),
                spki: key.public_key_info().expect("spki"),
                issuer: issuer.name.clone(),
                issuer_key: &key,
                serial: vec![2],
                extensions: ca_extensions(),
                claimed_algorithm: None,
            }
            .sign(),
        );
    }
    let stranger = p256();
    let mut cms = Cms::new(content, &certificates[0], &stranger);
    cms.certificates = certificates;
    repeated(&cms.sign(&stranger), MAX_SIGNERS, 0)
}
