//! A SignerInfo read where it lies (RFC 5652 §5.3): the cms crate's `SignerInfo` field for
//! field, but borrowing its bytes instead of copying each name, attribute and value into an
//! allocation of its own (decoding one owned SignerInfo cost about an eighth of a verification).
//!
//! Exactly as strict as the cms crate, by construction: the same der derives with the same
//! field attributes, over the borrowed counterparts of the same types (`AnyRef` for `Any`,
//! `OctetStringRef` for `OctetString`), and the SETs OF checked with the der crate's own
//! ordering. The one difference is deliberate: a SET OF whose elements are not already in DER
//! order, which the cms crate sorts and accepts, is refused here, and [`read`] then decodes the
//! SignerInfo with the cms crate and reads its canonical re-encoding (the signed attributes
//! stay the bytes as received: they are what the signature covers). So whatever the cms crate
//! refuses is refused, with its own error, and what it accepts reads as it would.
//! `tests::borrowed_reads_as_the_cms_crate` checks both on every fixture and many mutants.

use std::cmp::Ordering;
use std::marker::PhantomData;

use cms::content_info::CmsVersion;
use der::asn1::{AnyRef, ObjectIdentifier, OctetStringRef};
use der::{
    Decode, DecodeValue, DerOrd, Encode, EncodeValue, ErrorKind, FixedTag, Header, Length, Reader,
    Sequence, SliceReader, Tag, ValueOrd, Writer,
};
use spki::AlgorithmIdentifierRef;
use x509_cert::serial_number::SerialNumber;

pub(super) mod fast;
pub(super) use fast::Read;

/// `cms::signed_data::SignerInfo`, borrowed.
#[derive(Sequence)]
pub(super) struct SignerInfoRef<'a> {
    pub version: CmsVersion,
    pub sid: SignerIdentifierRef<'a>,
    pub digest_alg: AlgorithmIdentifierRef<'a>,
    #[asn1(
        context_specific = "0",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub signed_attrs: Option<SetOfRef<'a, AttributeRef<'a>>>,
    pub signature_algorithm: AlgorithmIdentifierRef<'a>,
    pub signature: OctetStringRef<'a>,
    #[asn1(
        context_specific = "1",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub unsigned_attrs: Option<SetOfRef<'a, AttributeRef<'a>>>,
}

/// `cms::signed_data::SignerIdentifier`, borrowed.
#[derive(der::Choice)]
pub(super) enum SignerIdentifierRef<'a> {
    IssuerAndSerialNumber(IssuerAndSerialRef<'a>),
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    SubjectKeyIdentifier(OctetStringRef<'a>),
}

/// `cms::cert::IssuerAndSerialNumber`, its Name borrowed (the serial is the cms crate's own
/// type, with its length rule).
#[derive(Sequence)]
pub(super) struct IssuerAndSerialRef<'a> {
    pub issuer: NameRef<'a>,
    pub serial_number: SerialNumber,
}

/// `x509_cert::attr::Attribute`, borrowed: the same derived DER ordering.
#[derive(Sequence, der::ValueOrd)]
pub(super) struct AttributeRef<'a> {
    pub oid: ObjectIdentifier,
    pub values: SetOfRef<'a, AnyRef<'a>>,
}

/// `x509_cert::attr::AttributeTypeAndValue`, borrowed.
#[derive(Sequence, der::ValueOrd)]
struct AttributeTypeAndValueRef<'a> {
    oid: ObjectIdentifier,
    value: AnyRef<'a>,
}

/// `x509_cert::name::Name` (a SEQUENCE OF RelativeDistinguishedName, each a SET OF
/// AttributeTypeAndValue), validated and kept as its DER.
#[derive(Clone, Copy)]
pub(super) struct NameRef<'a> {
    value: &'a [u8],
}

impl NameRef<'_> {
    /// The Name's whole DER (tag, length and value): what a certificate's issuer DER is
    /// compared with.
    pub(super) fn to_der_vec(self) -> der::Result<Vec<u8>> {
        self.to_der()
    }
}

impl<'a> DecodeValue<'a> for NameRef<'a> {
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let value = reader.read_slice(header.length)?;
        let mut rdns = SliceReader::new(value)?;
        while !rdns.is_finished() {
            SetOfRef::<AttributeTypeAndValueRef<'_>>::decode(&mut rdns)?;
        }
        Ok(NameRef { value })
    }
}

impl EncodeValue for NameRef<'_> {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(self.value.len())
    }
    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(self.value)
    }
}

impl FixedTag for NameRef<'_> {
    const TAG: Tag = Tag::Sequence;
}

/// `der::asn1::SetOfVec<T>`, borrowed: its elements decoded as they are read and required to
/// be in strictly ascending DER order (the der crate's `DerOrd`), which is what the der crate
/// leaves a SET OF in after sorting it and refusing duplicates.
pub(super) struct SetOfRef<'a, T> {
    value: &'a [u8],
    len: usize,
    element: PhantomData<T>,
}

// Not derived: a derive would ask `T: Clone`/`T: Copy`, which the element types need not be.
impl<T> Clone for SetOfRef<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for SetOfRef<'_, T> {}

impl<'a, T: Decode<'a>> SetOfRef<'a, T> {
    /// The elements, in order, each with its DER.
    pub(super) fn iter(&self) -> impl Iterator<Item = der::Result<(T, &'a [u8])>> + 'a {
        let mut reader = SliceReader::new(self.value);
        std::iter::from_fn(move || {
            let reader = match &mut reader {
                Ok(reader) => reader,
                Err(e) => return Some(Err(*e)),
            };
            if reader.is_finished() {
                return None;
            }
            Some(element(reader))
        })
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }
}

/// One element and its whole TLV.
fn element<'a, T: Decode<'a>>(reader: &mut SliceReader<'a>) -> der::Result<(T, &'a [u8])> {
    let mut ahead = reader.clone();
    let tlv = ahead.tlv_bytes()?;
    let value = T::decode(reader)?;
    Ok((value, tlv))
}

impl<'a, T: Decode<'a> + DerOrd> DecodeValue<'a> for SetOfRef<'a, T> {
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let value = reader.read_slice(header.length)?;
        let mut elements = SliceReader::new(value)?;
        let mut previous: Option<T> = None;
        let mut len = 0;
        while !elements.is_finished() {
            let next = T::decode(&mut elements)?;
            if let Some(previous) = &previous {
                if previous.der_cmp(&next)? != Ordering::Less {
                    return Err(ErrorKind::SetOrdering.into());
                }
            }
            previous = Some(next);
            len += 1;
        }
        Ok(SetOfRef {
            value,
            len,
            element: PhantomData,
        })
    }
}

impl<T> EncodeValue for SetOfRef<'_, T> {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(self.value.len())
    }
    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(self.value)
    }
}

impl<T> FixedTag for SetOfRef<'_, T> {
    const TAG: Tag = Tag::Set;
}

/// `SetOfVec`'s order: element by element, then the shorter first (der's `iter_cmp`).
impl<'a, T: Decode<'a> + DerOrd> ValueOrd for SetOfRef<'a, T> {
    fn value_cmp(&self, other: &Self) -> der::Result<Ordering> {
        for (mine, theirs) in self.iter().zip(other.iter()) {
            match mine?.0.der_cmp(&theirs?.0)? {
                Ordering::Equal => {}
                unequal => return Ok(unequal),
            }
        }
        Ok(self.len.cmp(&other.len))
    }
}

/// A SignerInfo the cms crate accepts, ready to be read: the view of the bytes as received
/// when its SETs are already in DER order (the usual case), else the cms crate's canonical
/// re-encoding of them, with the bytes as received for the signed attributes.
// Not boxed: the usual variant is the large one, and a box is an allocation per signer.
#[allow(clippy::large_enum_variant)]
pub(super) enum Decoded<'a> {
    /// Read by the byte-level reader ([`fast`]), with its attributes: the usual case.
    Read(Read<'a>),
    Received(SignerInfoRef<'a>),
    Canonical {
        der: Vec<u8>,
        received: &'a [u8],
    },
}

/// Checks that `raw` is a SignerInfo the cms crate accepts. Bounded first: the cms crate sorts
/// each SET OF quadratically.
pub(super) fn decode(raw: &[u8]) -> Result<Decoded<'_>, String> {
    let widest = crate::x509::widest_set(raw).map_err(|e| e.to_string())?;
    if widest > crate::x509::MAX_SET_ELEMENTS {
        return Err(format!(
            "malformed SignerInfo: a SET of {widest} elements (at most {} are read)",
            crate::x509::MAX_SET_ELEMENTS
        ));
    }
    if let Some(read) = fast::read(raw) {
        return Ok(Decoded::Read(read));
    }
    if let Ok(view) = SignerInfoRef::from_der(raw) {
        return Ok(Decoded::Received(view));
    }
    let malformed = |x: der::Error| format!("malformed SignerInfo: {x}");
    let owned = cms::signed_data::SignerInfo::from_der(raw).map_err(malformed)?;
    let der = owned.to_der().map_err(malformed)?;
    // The re-encoding is in DER order: the view reads it (checked here, where errors belong).
    SignerInfoRef::from_der(&der).map_err(malformed)?;
    Ok(Decoded::Canonical { der, received: raw })
}

/// The `[0] IMPLICIT` signed attributes, retagged as the universal SET they are signed as.
pub(super) fn retagged(attrs: &SetOfRef<'_, AttributeRef<'_>>) -> der::Result<Vec<u8>> {
    let header = Header::new(Tag::Set, attrs.value_len()?)?;
    let mut der = Vec::with_capacity(attrs.value.len() + 6);
    header.encode_to_vec(&mut der)?;
    der.extend_from_slice(attrs.value);
    Ok(der)
}

#[cfg(test)]
#[path = "signer_info_tests.rs"]
mod tests;
