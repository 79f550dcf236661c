//! PEM as it arrives in practice: the first `-----BEGIN …-----` block of a text, whatever
//! surrounds it (OpenSSL writes "Bag Attributes" before it), with base64 lines of any length.
//! RFC 7468 §3 says parsers should accept other line lengths: `base64` and Python wrap at 76
//! columns, OpenSSL reads that, and so do we (the `der` crate's decoder insists on 64).

use base64::Engine;

/// Why a text is not the PEM asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PemError {
    #[error("no -----BEGIN …----- line")]
    NoBegin,
    #[error("no -----END {0}----- line")]
    NoEnd(String),
    #[error("the base64 inside the PEM block is malformed")]
    Base64,
}

/// The label and bytes of the first PEM block in `text`.
pub fn first_block(text: &str) -> Result<(String, Vec<u8>), PemError> {
    const BEGIN: &str = "-----BEGIN ";
    let start = text.find(BEGIN).ok_or(PemError::NoBegin)? + BEGIN.len();
    let rest = &text[start..];
    let label_end = rest.find("-----").ok_or(PemError::NoBegin)?;
    let label = &rest[..label_end];
    let body = &rest[label_end + 5..];
    let end_line = format!("-----END {label}-----");
    let end = body
        .find(&end_line)
        .ok_or_else(|| PemError::NoEnd(label.to_owned()))?;
    let base64: String = body[..end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64.as_bytes())
        .map_err(|_| PemError::Base64)?;
    Ok((label.to_owned(), bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrapped(bytes: &[u8], width: usize) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(width)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        format!(
            "Bag Attributes\n-----BEGIN X509 CRL-----\n{}\n-----END X509 CRL-----\n",
            lines.join("\n")
        )
    }

    #[test]
    fn any_line_length_and_surrounding_text_are_read() {
        let bytes: Vec<u8> = (0..=255).collect();
        for width in [64, 76, 1000] {
            let (label, read) = first_block(&wrapped(&bytes, width)).expect("PEM");
            assert_eq!(
                (label.as_str(), read),
                ("X509 CRL", bytes.clone()),
                "{width}"
            );
        }
        let crlf = wrapped(&bytes, 76).replace('\n', "\r\n");
        assert_eq!(first_block(&crlf).expect("CRLF").1, bytes);
    }

    #[test]
    fn broken_blocks_are_refused() {
        assert_eq!(first_block("no pem here"), Err(PemError::NoBegin));
        let no_end = "-----BEGIN CERTIFICATE-----\nAAAA\n";
        assert_eq!(
            first_block(no_end),
            Err(PemError::NoEnd("CERTIFICATE".into()))
        );
        let bad = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert_eq!(first_block(bad), Err(PemError::Base64));
        let mismatched = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END X509 CRL-----\n";
        assert!(first_block(mismatched).is_err());
    }
}
