//! Bounds checked on DER before it reaches a decoder that is not linear in its input.

use der::{Decode, Header, Reader, SliceReader, Tag};

/// Most elements read in one SET OF. The der crate sorts a SET OF as it decodes it, by
/// insertion sort: quadratic when the elements arrive in reverse order. 4,000 signed attributes
/// (72 KB) took 20 s to decode; the 12 MiB a `POST /v1/verify` body can carry would take days
/// (issue 6, `hostile::der_lengths::many_elements_in_a_set_of_are_refused_quickly`). Real SETs
/// hold a handful: a certificate's RDNs one attribute each, a CAdES signer a few attributes.
pub const MAX_SET_ELEMENTS: usize = 64;

/// How many elements the largest SET OF in `der` holds: universal SETs, and constructed
/// context-specific fields (the implicitly tagged SETs of CMS), down to 16 levels. Linear in the
/// input, so it can run before a decoder that is not.
pub fn widest_set(der: &[u8]) -> der::Result<usize> {
    // The byte walk below answers for well-formed DER at a tenth of the cost; on anything it
    // does not take for plain DER the decoder's walk runs, so errors are the decoder's own.
    match quick::widest(der) {
        Some(widest) => Ok(widest),
        None => decoded_widest(der),
    }
}

/// [`widest_set`] through the der crate's own header decoding.
fn decoded_widest(der: &[u8]) -> der::Result<usize> {
    fn walk(bytes: &[u8], depth: usize, widest: &mut usize) -> der::Result<usize> {
        let mut reader = SliceReader::new(bytes)?;
        let mut count = 0;
        while !reader.is_finished() {
            let header = Header::decode(&mut reader)?;
            let value = reader.read_slice(header.length)?;
            count += 1;
            if header.tag.is_constructed() && depth < 16 {
                let children = walk(value, depth + 1, widest)?;
                if header.tag == Tag::Set || header.tag.is_context_specific() {
                    *widest = (*widest).max(children);
                }
            }
        }
        Ok(count)
    }
    let mut widest = 0;
    walk(der, 0, &mut widest)?;
    Ok(widest)
}

/// The walk of [`widest_set`] on bytes: the same count, or None where the der crate's walk may
/// differ (a tag or length form it refuses, a length past the end), which then decides. It
/// runs before every SignerInfo is decoded, a few microseconds of each verification.
mod quick {

    /// Longest value the der crate reads (`der::Length::MAX`).
    const MAX_LENGTH: usize = 0x0FFF_FFFF;

    pub(super) fn widest(der: &[u8]) -> Option<usize> {
        if der.len() > MAX_LENGTH {
            return None;
        }
        let mut widest = 0;
        walk(der, 0, &mut widest)?;
        Some(widest)
    }

    /// One level: its element count, each constructed element walked below 16 levels.
    fn walk(mut bytes: &[u8], depth: usize, widest: &mut usize) -> Option<usize> {
        let mut count = 0;
        while let Some((&tag, rest)) = bytes.split_first() {
            // Tags the der crate knows; for them the byte's 0x20 bit is `is_constructed`.
            if !known_tag(tag) {
                return None;
            }
            let (length, rest) = length(rest)?;
            if length > rest.len() {
                return None;
            }
            let (value, rest) = rest.split_at(length);
            bytes = rest;
            count += 1;
            if tag & 0x20 != 0 && depth < 16 {
                let children = walk(value, depth + 1, widest)?;
                let context_specific = tag & 0xC0 == 0x80;
                if tag == 0x31 || context_specific {
                    *widest = (*widest).max(children);
                }
            }
        }
        Some(count)
    }

    /// `der::Tag::try_from(byte).is_ok()`, as a match the compiler can inline: the universal
    /// types der names, and application, context-specific and private tags with a low-form
    /// number (0 to 30).
    pub(super) fn known_tag(byte: u8) -> bool {
        match byte {
            0x01..=0x06 | 0x09 | 0x0A | 0x0C | 0x12..=0x18 | 0x1A | 0x1E | 0x30 | 0x31 => true,
            0x40..=0xFF => byte & 0x1F != 0x1F,
            _ => false,
        }
    }

    /// A DER length in its shortest form of one to four bytes (what der accepts, but for
    /// four-byte lengths, left to it).
    fn length(bytes: &[u8]) -> Option<(usize, &[u8])> {
        let (&first, rest) = bytes.split_first()?;
        match first {
            0..=0x7F => Some((usize::from(first), rest)),
            0x81 => match rest {
                [n, rest @ ..] if *n >= 0x80 => Some((usize::from(*n), rest)),
                _ => None,
            },
            0x82 => match rest {
                [a, b, rest @ ..] if *a != 0 => {
                    Some((usize::from(*a) << 8 | usize::from(*b), rest))
                }
                _ => None,
            },
            0x83 => match rest {
                [a, b, c, rest @ ..] if *a != 0 => Some((
                    usize::from(*a) << 16 | usize::from(*b) << 8 | usize::from(*c),
                    rest,
                )),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Refuses DER holding a SET OF larger than [`MAX_SET_ELEMENTS`] (before it is decoded).
pub fn check_set_sizes(der: &[u8]) -> der::Result<()> {
    if widest_set(der)? > MAX_SET_ELEMENTS {
        return Err(der::Error::new(
            der::ErrorKind::Value { tag: Tag::Set },
            der::Length::ZERO,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte walk agrees with the decoder's wherever it answers, on DER as it comes and on
    /// every one-byte change of it (a changed tag, length or content byte).
    #[test]
    fn the_byte_walk_counts_as_the_decoder_does() {
        let key =
            crate::crypto::SigningKey::generate(crate::crypto::KeyAlgorithm::P256).expect("key");
        let spki = key.public_key_info().expect("spki");
        let samples = [
            der::Encode::to_der(&spki).expect("der"),
            // A SET of three, inside a [0] of two, inside a SEQUENCE; long-form lengths.
            vec![
                0x30, 0x0B, 0xA0, 0x09, 0x31, 0x07, 0x02, 0x01, 1, 0x02, 0x01, 2, 0x05, 0x00,
            ],
            [vec![0x04, 0x81, 0x80], vec![7; 0x80]].concat(),
            [vec![0x31, 0x82, 0x01, 0x2C], [0x05, 0x00].repeat(150)].concat(),
        ];
        let mut agreed = 0;
        for sample in &samples {
            let mut variants = vec![sample.clone()];
            for at in 0..sample.len() {
                for byte in [
                    0x00, 0x1F, 0x24, 0x30, 0x31, 0x7F, 0x80, 0x81, 0x82, 0x84, 0xA0, 0xFF,
                ] {
                    let mut changed = sample.clone();
                    changed[at] = byte;
                    variants.push(changed);
                }
            }
            for variant in &variants {
                if let Some(quick) = quick::widest(variant) {
                    assert_eq!(decoded_widest(variant).ok(), Some(quick), "{variant:02X?}");
                    agreed += 1;
                }
            }
        }
        assert!(agreed > 100, "the byte walk answered only {agreed} times");
        for byte in 0..=u8::MAX {
            assert_eq!(
                quick::known_tag(byte),
                Tag::try_from(byte).is_ok(),
                "{byte:02X}"
            );
        }
        assert_eq!(widest_set(&samples[3]).ok(), Some(150));
    }
}
