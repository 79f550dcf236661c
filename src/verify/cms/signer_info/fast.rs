//! The usual SignerInfo read byte by byte: the der derives behind [`SignerInfoRef`] walk every
//! byte through der's `Reader` trait and read each attribute twice (once to check the SET's
//! order, once to use it), about a sixth of a verification. This reader takes only the shape
//! a signer writes — the fields in order, single-byte tags, definite minimal lengths, every
//! SET OF non-empty and in strictly ascending DER order — and answers `None` on anything else,
//! whereupon the der derives read the SignerInfo as before (and give their own error).
//!
//! So it must never accept what the derives refuse, nor read a field otherwise: what it checks
//! itself is only the framing (exact tag bytes, the length rule der applies) and the order
//! (for DER encodings der's `DerOrd` is the byte order of the whole encodings: tag, then the
//! self-delimiting length, then the value); every leaf is decoded by der's own code (tags,
//! OIDs, the version, the serial number, `AnyRef`, `OctetStringRef`). The differential test
//! (`signer_info_tests.rs`) holds both readers to the same answer on every fixture and mutant.

use std::marker::PhantomData;

use cms::content_info::CmsVersion;
use der::asn1::{AnyRef, ObjectIdentifier, OctetStringRef};
use der::{Decode, Tag};
use spki::AlgorithmIdentifierRef;
use x509_cert::serial_number::SerialNumber;

use super::{
    AttributeRef, IssuerAndSerialRef, NameRef, SetOfRef, SignerIdentifierRef, SignerInfoRef,
};

/// A SignerInfo read by [`read`]: the view, and its signed and unsigned attributes in order.
pub(in crate::verify::cms) struct Read<'a> {
    pub view: SignerInfoRef<'a>,
    pub signed: Vec<AttributeRef<'a>>,
    pub unsigned: Vec<AttributeRef<'a>>,
}

/// A TLV read off the front of some bytes: its tag byte, value and whole encoding, and what
/// follows it.
pub(in crate::verify::cms) type Tlv<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

/// der's largest length (`Length::MAX`, 256 MiB - 1).
const MAX_LENGTH: u32 = 0x0FFF_FFFF;

/// One TLV off the front of `input`: its tag byte, value and whole encoding, and what follows.
/// Only single-byte tags, and the definite lengths der accepts: the short form, or one to four
/// length bytes that no shorter form could have held, at most [`MAX_LENGTH`].
pub(in crate::verify::cms) fn tlv(input: &[u8]) -> Option<Tlv<'_>> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1F == 0x1F {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        0..=0x7F => (u32::from(first), rest),
        0x81..=0x84 => {
            let count = usize::from(first - 0x80);
            let bytes = rest.get(..count)?;
            let len = bytes.iter().fold(0u32, |len, b| len << 8 | u32::from(*b));
            // Minimal: more than the bytes one fewer could hold (0x80 for a single byte).
            let least = if count == 1 {
                0x80
            } else {
                1 << (8 * (count - 1))
            };
            (len >= least && len <= MAX_LENGTH).then_some((len, &rest[count..]))?
        }
        _ => return None,
    };
    let len = usize::try_from(len).ok()?;
    let value = rest.get(..len)?;
    let header = input.len() - rest.len();
    Some((tag, value, &input[..header + len], &rest[len..]))
}

/// A cursor over the TLVs of one constructed value.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    /// The next TLV if its tag byte is `tag`: its value and whole encoding.
    fn take(&mut self, tag: u8) -> Option<(&'a [u8], &'a [u8])> {
        let (found, value, whole, rest) = tlv(self.0)?;
        (found == tag).then_some(())?;
        self.0 = rest;
        Some((value, whole))
    }

    /// Any TLV: its tag byte, value and whole encoding.
    fn any(&mut self) -> Option<(u8, &'a [u8], &'a [u8])> {
        let (tag, value, whole, rest) = tlv(self.0)?;
        self.0 = rest;
        Some((tag, value, whole))
    }

    fn peek(&self) -> Option<u8> {
        self.0.first().copied()
    }

    fn done(&self) -> bool {
        self.0.is_empty()
    }
}

/// The elements of a SET OF `value`, each read by `element`, when there is at least one and
/// each encoding is greater than the one before (strict: der refuses duplicates).
fn set_of<'a, T>(
    value: &'a [u8],
    mut element: impl FnMut(u8, &'a [u8]) -> Option<T>,
) -> Option<(Vec<T>, usize)> {
    let mut fields = Fields(value);
    let mut elements = Vec::new();
    let mut previous: Option<&[u8]> = None;
    while !fields.done() {
        let (tag, value, whole) = fields.any()?;
        if previous.is_some_and(|p| p >= whole) {
            return None;
        }
        previous = Some(whole);
        elements.push(element(tag, value)?);
    }
    let len = elements.len();
    (len > 0).then_some((elements, len))
}

/// The same, when only the count is needed (the elements are checked, not kept).
fn set_of_checked<'a>(
    value: &'a [u8],
    element: impl FnMut(u8, &'a [u8]) -> Option<()>,
) -> Option<usize> {
    set_of(value, element).map(|(_, len)| len)
}

fn oid(value: &[u8]) -> Option<ObjectIdentifier> {
    ObjectIdentifier::from_bytes(value).ok()
}

fn any<'a>(tag: u8, value: &'a [u8]) -> Option<AnyRef<'a>> {
    AnyRef::new(Tag::try_from(tag).ok()?, value).ok()
}

/// `SEQUENCE { type OBJECT IDENTIFIER, values SET OF ANY }`.
fn attribute<'a>(tag: u8, value: &'a [u8]) -> Option<AttributeRef<'a>> {
    (tag == 0x30).then_some(())?;
    let mut fields = Fields(value);
    let oid = oid(fields.take(0x06)?.0)?;
    let (values, _) = fields.take(0x31)?;
    fields.done().then_some(())?;
    let len = set_of_checked(values, |tag, value| any(tag, value).map(|_| ()))?;
    Some(AttributeRef {
        oid,
        values: set_ref(values, len),
    })
}

fn set_ref<T>(value: &[u8], len: usize) -> SetOfRef<'_, T> {
    SetOfRef {
        value,
        len,
        element: PhantomData,
    }
}

/// `[n] IMPLICIT SET OF Attribute`: the view's SET and the attributes.
fn attributes(value: &[u8]) -> Option<(SetOfRef<'_, AttributeRef<'_>>, Vec<AttributeRef<'_>>)> {
    let (attributes, len) = set_of(value, attribute)?;
    Some((set_ref(value, len), attributes))
}

/// A Name: `SEQUENCE OF SET OF SEQUENCE { type OBJECT IDENTIFIER, value ANY }`.
fn name(value: &[u8]) -> Option<NameRef<'_>> {
    let mut rdns = Fields(value);
    while !rdns.done() {
        let (rdn, _) = rdns.take(0x31)?;
        set_of_checked(rdn, |tag, value| {
            (tag == 0x30).then_some(())?;
            let mut fields = Fields(value);
            oid(fields.take(0x06)?.0)?;
            let (tag, value, _) = fields.any()?;
            any(tag, value)?;
            fields.done().then_some(())
        })?;
    }
    Some(NameRef { value })
}

/// `SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }`.
fn algorithm(value: &[u8]) -> Option<AlgorithmIdentifierRef<'_>> {
    let mut fields = Fields(value);
    let oid = oid(fields.take(0x06)?.0)?;
    let parameters = match fields.any() {
        Some((tag, value, _)) => Some(any(tag, value)?),
        None => None,
    };
    fields.done().then_some(())?;
    Some(AlgorithmIdentifierRef { oid, parameters })
}

fn signer_identifier<'a>(fields: &mut Fields<'a>) -> Option<SignerIdentifierRef<'a>> {
    match fields.peek()? {
        0x30 => {
            let (value, _) = fields.take(0x30)?;
            let mut inner = Fields(value);
            let issuer = name(inner.take(0x30)?.0)?;
            let serial_number = SerialNumber::from_der(inner.take(0x02)?.1).ok()?;
            inner.done().then_some(())?;
            Some(SignerIdentifierRef::IssuerAndSerialNumber(
                IssuerAndSerialRef {
                    issuer,
                    serial_number,
                },
            ))
        }
        0x80 => {
            let (value, _) = fields.take(0x80)?;
            Some(SignerIdentifierRef::SubjectKeyIdentifier(
                OctetStringRef::new(value).ok()?,
            ))
        }
        _ => None,
    }
}

/// `raw` read as the der derives would read it, or `None`: leave it to them.
pub(in crate::verify::cms) fn read(raw: &[u8]) -> Option<Read<'_>> {
    let (tag, value, _, rest) = tlv(raw)?;
    (tag == 0x30 && rest.is_empty()).then_some(())?;
    let mut fields = Fields(value);
    let version = CmsVersion::from_der(fields.take(0x02)?.1).ok()?;
    let sid = signer_identifier(&mut fields)?;
    let digest_alg = algorithm(fields.take(0x30)?.0)?;
    let (signed_attrs, signed) = match fields.peek()? {
        0xA0 => {
            let (set, list) = attributes(fields.take(0xA0)?.0)?;
            (Some(set), list)
        }
        _ => (None, Vec::new()),
    };
    let signature_algorithm = algorithm(fields.take(0x30)?.0)?;
    let signature = OctetStringRef::new(fields.take(0x04)?.0).ok()?;
    let (unsigned_attrs, unsigned) = match fields.peek() {
        Some(0xA1) => {
            let (set, list) = attributes(fields.take(0xA1)?.0)?;
            (Some(set), list)
        }
        Some(_) => return None,
        None => (None, Vec::new()),
    };
    fields.done().then_some(())?;
    Some(Read {
        view: SignerInfoRef {
            version,
            sid,
            digest_alg,
            signed_attrs,
            signature_algorithm,
            signature,
            unsigned_attrs,
        },
        signed,
        unsigned,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_read_only_in_the_forms_der_accepts() {
        // Short form, and one or two length bytes that a shorter form could not hold.
        assert!(tlv(&[0x04, 0x01, 0xAA]).is_some());
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([0; 0x80]);
        assert_eq!(tlv(&long).map(|t| t.1.len()), Some(0x80));
        let mut longer = vec![0x04, 0x82, 0x01, 0x00];
        longer.extend([0; 0x100]);
        assert_eq!(tlv(&longer).map(|t| t.1.len()), Some(0x100));
        let mut three = vec![0x04, 0x83, 0x01, 0x00, 0x00];
        three.extend(vec![0; 0x10000]);
        assert_eq!(tlv(&three).map(|t| t.1.len()), Some(0x10000));
        // Not minimal, indefinite, five length bytes, beyond der's largest length, multi-byte
        // tag, cut short: not read (der refuses each).
        assert!(tlv(&[0x04, 0x81, 0x01, 0xAA]).is_none());
        assert!(tlv(&[0x04, 0x82, 0x00, 0x80]).is_none());
        assert!(tlv(&[0x04, 0x83, 0x00, 0xFF, 0xFF]).is_none());
        assert!(tlv(&[0x04, 0x84, 0x00, 0xFF, 0xFF, 0xFF]).is_none());
        assert!(tlv(&[0x04, 0x84, 0x10, 0x00, 0x00, 0x00]).is_none());
        assert!(tlv(&[0x04, 0x85, 0x00, 0x00, 0x00, 0x00, 0x01]).is_none());
        assert!(tlv(&[0x30, 0x80, 0x00, 0x00]).is_none());
        assert!(tlv(&[0x1F, 0x01, 0x00]).is_none());
        assert!(tlv(&[0x04, 0x02, 0xAA]).is_none());
    }

    #[test]
    fn sets_must_be_ascending_without_duplicates() {
        let count = |value: &[u8]| set_of_checked(value, |_, _| Some(()));
        assert_eq!(count(&[0x04, 0x01, 0x01, 0x04, 0x01, 0x02]), Some(2));
        // A shorter element sorts first when its length byte is smaller.
        assert_eq!(count(&[0x04, 0x01, 0x09, 0x04, 0x02, 0x00, 0x00]), Some(2));
        assert_eq!(count(&[0x04, 0x01, 0x02, 0x04, 0x01, 0x01]), None);
        assert_eq!(count(&[0x04, 0x01, 0x01, 0x04, 0x01, 0x01]), None);
        assert_eq!(count(&[]), None);
    }
}
