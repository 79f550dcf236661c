//! Characters, names, references and positions: the pieces of the grammar the parser is made of.
//! Everything here works on `&str` slices at ASCII boundaries, so no slice can split a UTF-8
//! sequence, and every slice is taken with `get` so that no input can make one panic.

use crate::xml::XmlError;

/// XML 1.0 §2.2 Char. Rust's `char` already excludes surrogates.
pub(super) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

/// XML 1.0 §2.3 S.
pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// XML 1.0 (fifth edition) §2.3 NameStartChar.
pub(super) fn is_name_start(c: char) -> bool {
    matches!(c,
        ':' | 'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

/// XML 1.0 (fifth edition) §2.3 NameChar.
pub(super) fn is_name_char(c: char) -> bool {
    is_name_start(c)
        || matches!(c,
            '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// Whether `s` is an XML Name.
pub(super) fn is_name(s: &str) -> bool {
    if s.is_ascii() {
        let mut bytes = s.bytes();
        return bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || matches!(b, b':' | b'_'))
            && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-' | b'.'));
    }
    let mut chars = s.chars();
    chars.next().is_some_and(is_name_start) && chars.all(is_name_char)
}

/// An NCName (Namespaces in XML §3): a Name without a colon.
pub(super) fn is_ncname(s: &str) -> bool {
    !s.contains(':') && is_name(s)
}

/// Splits a QName into prefix and local part; None when it is not a QName (an empty part, or a
/// second colon).
pub(super) fn split_qname(s: &str) -> Option<(Option<&str>, &str)> {
    // The common case, an ASCII name already read as a Name: only the colon's place and the
    // parts' first characters remain to be checked.
    if s.is_ascii() && is_name(s) {
        let starts = |p: &str| {
            p.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        };
        return match s.split_once(':') {
            None => Some((None, s)),
            Some((p, l)) if !l.contains(':') && starts(p) && starts(l) => Some((Some(p), l)),
            Some(_) => None,
        };
    }
    match s.split_once(':') {
        None => is_ncname(s).then_some((None, s)),
        Some((p, l)) => (is_ncname(p) && is_ncname(l)).then_some((Some(p), l)),
    }
}

/// The 1-based line and column (in characters) of byte `pos` of `text`. A CR LF pair, a lone
/// CR and a LF each end a line, as §2.11 normalises them. Only computed for an error message.
pub(super) fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = text.get(..pos).unwrap_or(text);
    let (mut line, mut column) = (1, 1);
    let mut after_cr = false;
    for c in before.chars() {
        match c {
            '\n' if after_cr => {}
            '\n' | '\r' => {
                line += 1;
                column = 1;
            }
            _ => column += 1,
        }
        after_cr = c == '\r';
    }
    (line, column)
}

pub(super) fn malformed(text: &str, pos: usize, what: impl Into<String>) -> XmlError {
    let (line, column) = line_col(text, pos);
    XmlError::Malformed {
        line,
        column,
        what: what.into(),
    }
}

/// How a run of raw characters becomes content.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Run {
    /// Character data: line ends normalised, references resolved.
    Text,
    /// An attribute value (§3.3.3, CDATA type): line ends normalised, then each literal
    /// whitespace character becomes a space; references resolved, their characters kept;
    /// `<` refused.
    Attribute,
    /// Comments, PIs and CDATA sections: line ends normalised, nothing else.
    Literal,
}

/// Appends `raw` (which starts at byte `at` of `text`) to `out` as `run` says.
pub(super) fn decode(
    text: &str,
    at: usize,
    raw: &str,
    run: Run,
    out: &mut String,
) -> Result<(), XmlError> {
    let bytes = raw.as_bytes();
    let mut i = 0;
    // Copies the stretches without markup in one go: only `&`, `<`, CR, and in attribute
    // values TAB and LF, need a look.
    while i < bytes.len() {
        let special = |b: u8| match run {
            Run::Text => b == b'&' || b == b'\r',
            Run::Attribute => matches!(b, b'&' | b'<' | b'\r' | b'\n' | b'\t'),
            Run::Literal => b == b'\r',
        };
        let stop = bytes
            .get(i..)
            .and_then(|rest| rest.iter().position(|b| special(*b)))
            .map_or(bytes.len(), |n| i + n);
        out.push_str(raw.get(i..stop).unwrap_or_default());
        i = stop;
        let Some(&b) = bytes.get(i) else { break };
        match b {
            b'\r' => {
                out.push(if run == Run::Attribute { ' ' } else { '\n' });
                i += if bytes.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
            }
            b'\n' | b'\t' => {
                out.push(' ');
                i += 1;
            }
            b'<' => return Err(malformed(text, at + i, "'<' in an attribute value")),
            _ => {
                let (c, len) = reference(text, at + i, raw.get(i..).unwrap_or_default())?;
                out.push(c);
                i += len;
            }
        }
    }
    Ok(())
}

/// Reads the reference at the start of `s` (`&…;`, at byte `at` of `text`): the character it
/// stands for and its length. Only the five predefined entities and character references exist
/// here; with no DTD, any other name is an undeclared entity.
fn reference(text: &str, at: usize, s: &str) -> Result<(char, usize), XmlError> {
    let Some(end) = s.find(';') else {
        return Err(malformed(text, at, "'&' not starting a reference"));
    };
    let body = s.get(1..end).unwrap_or_default();
    let c = if let Some(num) = body.strip_prefix('#') {
        let (digits, radix) = match num.strip_prefix('x') {
            Some(hex) => (hex, 16),
            None => (num, 10),
        };
        let valid = !digits.is_empty() && digits.bytes().all(|b| (b as char).is_digit(radix));
        // At most 8 significant digits can name a character: longer ones overflow.
        let code = digits.trim_start_matches('0');
        let value = if valid && code.len() <= 8 {
            u32::from_str_radix(if code.is_empty() { "0" } else { code }, radix).ok()
        } else {
            None
        };
        match value.and_then(char::from_u32).filter(|c| is_xml_char(*c)) {
            Some(c) => c,
            None if valid => {
                return Err(malformed(
                    text,
                    at,
                    format!("&{body}; is not an XML character"),
                ))
            }
            None => return Err(malformed(text, at, "malformed character reference")),
        }
    } else {
        match body {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            name if is_name(name) => {
                return Err(malformed(text, at, format!("undeclared entity &{name};")))
            }
            _ => return Err(malformed(text, at, "'&' not starting a reference")),
        }
    };
    Ok((c, end + 1))
}

/// Checks the XML declaration's encoding name: only UTF-8 is read.
pub(super) fn check_encoding(name: &str) -> Result<(), XmlError> {
    if name.eq_ignore_ascii_case("utf-8") {
        Ok(())
    } else {
        Err(XmlError::Encoding(name.to_string()))
    }
}
