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
