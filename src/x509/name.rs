//! Distinguished names in NCA RK's shape: attribute order as declared, string types as NCA uses
//! them (PrintableString for C and serialNumber, UTF8String for everything else).

use der::asn1::{Any, Ia5StringRef, ObjectIdentifier, PrintableStringRef, SetOfVec, Utf8StringRef};
use der::{Tag, Tagged};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};

/// Why a name could not be built.
#[derive(Debug, thiserror::Error)]
pub enum NameError {
    #[error("unknown subject attribute {0:?}")]
    UnknownAttribute(String),
    #[error("{attribute} value {value:?}: {reason}")]
    BadValue {
        attribute: String,
        value: String,
        reason: String,
    },
    #[error("DER encoding failed: {0}")]
    Encoding(#[from] der::Error),
}

/// Attribute short names this service writes and reads, with their OIDs and string types.
const ATTRIBUTES: &[(&str, ObjectIdentifier, Tag)] = &[
    (
        "CN",
        ObjectIdentifier::new_unwrap("2.5.4.3"),
        Tag::Utf8String,
    ),
    (
        "SURNAME",
        ObjectIdentifier::new_unwrap("2.5.4.4"),
        Tag::Utf8String,
    ),
    (
        "SERIALNUMBER",
        ObjectIdentifier::new_unwrap("2.5.4.5"),
        Tag::PrintableString,
    ),
    (
        "C",
        ObjectIdentifier::new_unwrap("2.5.4.6"),
        Tag::PrintableString,
    ),
    (
        "O",
        ObjectIdentifier::new_unwrap("2.5.4.10"),
        Tag::Utf8String,
    ),
    (
        "OU",
        ObjectIdentifier::new_unwrap("2.5.4.11"),
        Tag::Utf8String,
    ),
    (
        "GIVENNAME",
        ObjectIdentifier::new_unwrap("2.5.4.42"),
        Tag::Utf8String,
    ),
    (
        "UID",
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.1"),
        Tag::Utf8String,
    ),
    (
        "DC",
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.25"),
        Tag::Ia5String,
    ),
    (
        "BUSINESSCATEGORY",
        ObjectIdentifier::new_unwrap("2.5.4.15"),
        Tag::Utf8String,
    ),
    (
        "E",
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1"),
        Tag::Ia5String,
    ),
];

fn lookup_short(short: &str) -> Option<(ObjectIdentifier, Tag)> {
    ATTRIBUTES
        .iter()
        .find(|(s, _, _)| s.eq_ignore_ascii_case(short))
        .map(|(_, oid, tag)| (*oid, *tag))
}

fn short_name(oid: &ObjectIdentifier) -> Option<&'static str> {
    ATTRIBUTES
        .iter()
        .find(|(_, o, _)| o == oid)
        .map(|(short, _, _)| *short)
}

/// Builds a Name from (short name, value) pairs, one attribute per RDN, in the given order.
pub fn build(attributes: &[(&str, &str)]) -> Result<Name, NameError> {
    let mut rdns = Vec::with_capacity(attributes.len());
    for (short, value) in attributes {
        let (oid, tag) =
            lookup_short(short).ok_or_else(|| NameError::UnknownAttribute((*short).to_owned()))?;
        let bad = |e: der::Error| NameError::BadValue {
            attribute: (*short).to_owned(),
            value: (*value).to_owned(),
            reason: e.to_string(),
        };
        let value = match tag {
            Tag::PrintableString => Any::encode_from(&PrintableStringRef::new(value).map_err(bad)?),
            Tag::Ia5String => Any::encode_from(&Ia5StringRef::new(value).map_err(bad)?),
            _ => Any::encode_from(&Utf8StringRef::new(value).map_err(bad)?),
        }
        .map_err(bad)?;
        let atv = AttributeTypeAndValue { oid, value };
        let set = SetOfVec::try_from(vec![atv])?;
        rdns.push(RelativeDistinguishedName(set));
    }
    Ok(RdnSequence(rdns))
}

/// The value of the first attribute with this OID, decoded as a string of any DirectoryString type.
pub fn attribute(name: &Name, short: &str) -> Option<String> {
    let (oid, _) = lookup_short(short)?;
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == oid)
        .and_then(|atv| value_string(&atv.value))
}

fn value_string(value: &Any) -> Option<String> {
    match value.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::TeletexString => {
            std::str::from_utf8(value.value()).ok().map(str::to_owned)
        }
        Tag::BmpString => {
            let units: Vec<u16> = value
                .value()
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// A readable one-line form in certificate order, e.g. `CN=ТЕСТОВ ТЕСТ, SERIALNUMBER=IIN…, C=KZ`.
pub fn display(name: &Name) -> String {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .map(|atv| {
            let key = short_name(&atv.oid)
                .map(str::to_owned)
                .unwrap_or_else(|| atv.oid.to_string());
            let value = value_string(&atv.value).unwrap_or_else(|| "#…".into());
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `s` cut to `max` characters, with an ellipsis when cut: for echoing input in messages.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}
