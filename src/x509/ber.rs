//! A small, bounded BER reader.
//!
//! `der` 0.7 rejects BER, but key stores written by Java and by NCA's tools use indefinite
//! lengths and constructed OCTET STRINGs, and streaming producers write CMS that way, so the
//! key store reader walks the structures with this, and CMS is normalised to DER by
//! [`to_der`]. Only what PKCS#12 needs: low tag numbers, lengths up to 4 bytes, nesting up to
//! [`MAX_DEPTH`].

use std::borrow::Cow;

use const_oid::ObjectIdentifier;

/// Input that is not the BER this reader accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BerError(pub String);

fn invalid(msg: impl Into<String>) -> BerError {
    BerError(msg.into())
}

type Result<T> = std::result::Result<T, BerError>;

/// Largest input [`super::ber_to_der`] normalises: a signed request with its attachments.
pub const MAX_NORMALISED_LEN: usize = 32 << 20;

/// Deepest nesting accepted; PKCS#12 itself needs about 12 levels.
const MAX_DEPTH: usize = 40;

pub const TAG_INTEGER: u8 = 0x02;
pub const TAG_OCTET_STRING: u8 = 0x04;
pub const TAG_NULL: u8 = 0x05;
pub const TAG_OID: u8 = 0x06;
pub const TAG_BMP_STRING: u8 = 0x1e;
pub const TAG_SEQUENCE: u8 = 0x30;
pub const TAG_SET: u8 = 0x31;
/// `[0]` constructed: EXPLICIT wrappers.
pub const TAG_CTX0_CONSTRUCTED: u8 = 0xa0;
/// `[0]` primitive: an IMPLICIT OCTET STRING.
pub const TAG_CTX0_PRIMITIVE: u8 = 0x80;

const CONSTRUCTED: u8 = 0x20;

/// One element: its identifier octet and its contents. For an indefinite-length element the
/// contents are the children without the end-of-contents marker.
#[derive(Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    /// The whole encoding, header included.
    pub raw: &'a [u8],
}

/// Parse exactly one element that fills `input`.
pub fn parse_exact(input: &[u8]) -> Result<Tlv<'_>> {
    let (tlv, used) = parse_at(input, 0)?;
    if used != input.len() {
        return Err(invalid("trailing data after an ASN.1 element"));
    }
    Ok(tlv)
}

/// Parse one element at the start of `input`; returns it and the number of bytes it takes.
fn parse_at(input: &[u8], depth: usize) -> Result<(Tlv<'_>, usize)> {
    if depth > MAX_DEPTH {
        return Err(invalid("ASN.1 nesting too deep"));
    }
    let (&tag, rest) = input
        .split_first()
        .ok_or_else(|| invalid("truncated ASN.1 element"))?;
    if tag & 0x1f == 0x1f {
        return Err(invalid("unsupported ASN.1 high tag number"));
    }
    let (&first, rest) = rest
        .split_first()
        .ok_or_else(|| invalid("truncated ASN.1 length"))?;
    let mut header = 2;
    if first == 0x80 {
        if tag & CONSTRUCTED == 0 {
            return Err(invalid("indefinite length on a primitive element"));
        }
        // Walk the children to find the end-of-contents marker.
        let mut pos = 0;
        loop {
            let remaining = rest
                .get(pos..)
                .ok_or_else(|| invalid("truncated ASN.1 element"))?;
            if remaining.starts_with(&[0, 0]) {
                let content = &rest[..pos];
                let total = header + pos + 2;
                return Ok((
                    Tlv {
                        tag,
                        content,
                        raw: &input[..total],
                    },
                    total,
                ));
            }
            if remaining.is_empty() {
                return Err(invalid("missing end-of-contents marker"));
            }
            let (_, used) = parse_at(remaining, depth + 1)?;
            pos += used;
        }
    }
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n > 4 {
            return Err(invalid("ASN.1 length too large"));
        }
        let bytes = rest
            .get(..n)
            .ok_or_else(|| invalid("truncated ASN.1 length"))?;
        header += n;
        bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    let end = header
        .checked_add(len)
        .filter(|end| *end <= input.len())
        .ok_or_else(|| invalid("truncated ASN.1 element"))?;
    Ok((
        Tlv {
            tag,
            content: &input[header..end],
            raw: &input[..end],
        },
        end,
    ))
}

impl<'a> Tlv<'a> {
    fn constructed(&self) -> bool {
        self.tag & CONSTRUCTED != 0
    }

    /// Fail unless the element has the given tag.
    pub fn expect(self, tag: u8, what: &str) -> Result<Self> {
        if self.tag == tag {
            Ok(self)
        } else {
            Err(invalid(format!(
                "{what}: expected tag 0x{tag:02x}, found 0x{:02x}",
                self.tag
            )))
        }
    }

    /// The children of a constructed element.
    pub fn children(&self) -> Result<Vec<Tlv<'a>>> {
        if !self.constructed() {
            return Err(invalid("expected a constructed ASN.1 element"));
        }
        let mut out = Vec::new();
        let mut rest = self.content;
        while !rest.is_empty() {
            let (child, used) = parse_at(rest, 0)?;
            out.push(child);
            rest = &rest[used..];
        }
        Ok(out)
    }

    /// The children of a SEQUENCE.
    pub fn sequence(&self, what: &str) -> Result<Vec<Tlv<'a>>> {
        self.expect(TAG_SEQUENCE, what)?.children()
    }

    /// The bytes of an OCTET STRING (or of an IMPLICIT one with another tag), joining the
    /// segments of a constructed (BER) string.
    pub fn octets(&self) -> Result<Cow<'a, [u8]>> {
        if !self.constructed() {
            return Ok(Cow::Borrowed(self.content));
        }
        let mut out = Vec::new();
        self.collect_segments(&mut out, 0)?;
        Ok(Cow::Owned(out))
    }

    fn collect_segments(&self, out: &mut Vec<u8>, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(invalid("ASN.1 nesting too deep"));
        }
        for child in self.children()? {
            match child.tag {
                TAG_OCTET_STRING => out.extend_from_slice(child.content),
                t if t == TAG_OCTET_STRING | CONSTRUCTED => {
                    child.collect_segments(out, depth + 1)?
                }
                _ => return Err(invalid("bad segment in a constructed OCTET STRING")),
            }
        }
        Ok(())
    }

    /// An OCTET STRING with the universal tag (either form).
    pub fn octet_string(&self, what: &str) -> Result<Cow<'a, [u8]>> {
        if self.tag & !CONSTRUCTED != TAG_OCTET_STRING {
            return Err(invalid(format!("{what}: expected an OCTET STRING")));
        }
        self.octets()
    }

    pub fn oid(&self, what: &str) -> Result<ObjectIdentifier> {
        let tlv = self.expect(TAG_OID, what)?;
        ObjectIdentifier::from_bytes(tlv.content)
            .map_err(|_| invalid(format!("{what}: malformed OBJECT IDENTIFIER")))
    }

    /// A non-negative INTEGER that fits in 64 bits.
    pub fn uint(&self, what: &str) -> Result<u64> {
        let tlv = self.expect(TAG_INTEGER, what)?;
        let bytes = tlv.content;
        match bytes.first() {
            None => return Err(invalid(format!("{what}: empty INTEGER"))),
            Some(b) if b & 0x80 != 0 => return Err(invalid(format!("{what}: negative INTEGER"))),
            _ => {}
        }
        let significant = match bytes.iter().position(|b| *b != 0) {
            Some(i) => &bytes[i..],
            None => return Ok(0),
        };
        if significant.len() > 8 {
            return Err(invalid(format!("{what}: INTEGER too large")));
        }
        Ok(significant
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }
}

/// An AlgorithmIdentifier: its OID and its parameters (absent or NULL both give `None`).
pub fn algorithm<'a>(tlv: &Tlv<'a>, what: &str) -> Result<(ObjectIdentifier, Option<Tlv<'a>>)> {
    let items = tlv.sequence(what)?;
    let oid = items
        .first()
        .ok_or_else(|| invalid(format!("{what}: empty AlgorithmIdentifier")))?
        .oid(what)?;
    let params = match items.get(1) {
        Some(p) if p.tag == TAG_NULL => None,
        Some(p) => Some(*p),
        None => None,
    };
    if items.len() > 2 {
        return Err(invalid(format!("{what}: malformed AlgorithmIdentifier")));
    }
    Ok((oid, params))
}

/// Check that `bytes` is one complete SEQUENCE (used to validate keys and certificates).
pub fn is_single_sequence(bytes: &[u8]) -> bool {
    matches!(parse_exact(bytes), Ok(t) if t.tag == TAG_SEQUENCE)
}

/// Re-encodes BER as DER: indefinite lengths become definite, constructed (segmented) OCTET
/// STRINGs become one primitive OCTET STRING. SET OF order is left as sent. Bounded like the
/// reader (depth, sizes); used for CMS from streaming producers.
pub fn to_der(input: &[u8]) -> Result<Vec<u8>> {
    let tlv = parse_exact(input)?;
    let mut out = Vec::with_capacity(input.len());
    encode(&tlv, &mut out, 0)?;
    Ok(out)
}

fn encode(tlv: &Tlv<'_>, out: &mut Vec<u8>, depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(invalid("ASN.1 nesting too deep"));
    }
    if tlv.tag == TAG_OCTET_STRING | CONSTRUCTED {
        let bytes = tlv.octets()?;
        header(TAG_OCTET_STRING, bytes.len(), out);
        out.extend_from_slice(&bytes);
    } else if tlv.tag & CONSTRUCTED != 0 {
        let mut inner = Vec::new();
        for child in tlv.children()? {
            encode(&child, &mut inner, depth + 1)?;
        }
        header(tlv.tag, inner.len(), out);
        out.extend_from_slice(&inner);
    } else {
        header(tlv.tag, tlv.content.len(), out);
        out.extend_from_slice(tlv.content);
    }
    Ok(())
}

/// A DER identifier and definite length.
fn header(tag: u8, len: usize, out: &mut Vec<u8>) {
    out.push(tag);
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}
