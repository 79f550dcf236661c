//! [`walk`](super::walk) for the usual SignedData, byte by byte: the der reader's generic
//! header decoding costs a few percent of a verification for a dozen TLVs. Only the usual shape
//! is taken — a SEQUENCE holding nothing after its fields, `[0]` constructed, certificates and
//! CRLs as X.509, single-byte tags, minimal definite lengths — and anything else answers `None`,
//! whereupon the der walk reads the input as before (and gives its own error). So whatever this
//! reads, the der walk reads alike: every check here is one the der walk makes, or stricter.

use const_oid::db::rfc5911::ID_SIGNED_DATA;
use der::asn1::ObjectIdentifier;
use der::Tag;

use super::signer_info::fast::{tlv, Tlv};
use super::Walked;

/// One TLV whose tag the der crate knows (its header decoding refuses the others): tag byte,
/// value, whole encoding, and what follows.
fn known(input: &[u8]) -> Option<Tlv<'_>> {
    let read = tlv(input)?;
    Tag::try_from(read.0).ok()?;
    Some(read)
}

/// The only TLV of `input`, if its tag byte is `tag`: its value.
fn only(input: &[u8], tag: u8) -> Option<&[u8]> {
    let (found, value, _, rest) = tlv(input)?;
    (found == tag && rest.is_empty()).then_some(value)
}

/// The whole encoding of each TLV of `input`, in order.
fn each<'a>(mut input: &'a [u8], mut f: impl FnMut(u8, &'a [u8]) -> Option<()>) -> Option<()> {
    while !input.is_empty() {
        let (tag, _, whole, rest) = known(input)?;
        f(tag, whole)?;
        input = rest;
    }
    Some(())
}

pub(super) fn walk(der: &[u8]) -> Option<Walked<'_>> {
    let content_info = only(der, 0x30)?;
    let (tag, content_type, _, rest) = tlv(content_info)?;
    (tag == 0x06 && content_type == ID_SIGNED_DATA.as_bytes()).then_some(())?;
    let signed_data = only(only(rest, 0xA0)?, 0x30)?;
    let (_, _, _, rest) = known(signed_data)?; // version
    let (_, _, _, rest) = known(rest)?; // digestAlgorithms
    let (_, encap, _, mut rest) = known(rest)?;
    let (tag, econtent_type, _, after) = tlv(encap)?;
    (tag == 0x06).then_some(())?;
    let econtent_type = ObjectIdentifier::from_bytes(econtent_type).ok()?;
    let econtent = match after.is_empty() {
        true => None,
        false => Some(only(only(after, 0xA0)?, 0x04)?),
    };
    let mut walked = Walked {
        econtent_type,
        econtent,
        certificates: Vec::new(),
        crls: Vec::new(),
        ocsp_responses: Vec::new(),
        signer_infos: Vec::new(),
    };
    while !rest.is_empty() {
        let (tag, value, _, next) = tlv(rest)?;
        rest = next;
        match tag {
            0xA0 => each(value, |tag, whole| {
                // Only X.509 certificates (a SEQUENCE); other CertificateChoices are skipped.
                if tag == 0x30 {
                    walked.certificates.push(whole);
                }
                Some(())
            })?,
            0xA1 => each(value, |tag, whole| match tag {
                0x30 => {
                    walked.crls.push(whole);
                    Some(())
                }
                // OtherRevocationInfoFormat (an OCSP response, …): the der walk reads it.
                0xA1 => None,
                _ => Some(()),
            })?,
            0x31 => each(value, |_, whole| {
                walked.signer_infos.push(whole);
                Some(())
            })?,
            _ => return None,
        }
    }
    Some(walked)
}
