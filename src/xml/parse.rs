//! The parser: bytes → [`Document`], within [`Limits`]. One pass, one loop, no recursion: open
//! elements live on an explicit stack, so nesting costs heap, never call stack, and the depth
//! limit is checked at each start tag before anything of it is kept.

mod lex;
mod tag;

use std::collections::HashMap;

use super::{Document, Limits, Node, NodeId, XmlError};
use lex::{decode, is_space, malformed, Run};

const BOM: &[u8] = b"\xEF\xBB\xBF";

pub(super) fn parse(input: &[u8], limits: &Limits) -> Result<Document, XmlError> {
    // The size first: nothing else is looked at in an oversized input.
    if input.len() > limits.max_bytes {
        return Err(XmlError::TooLarge {
            size: input.len(),
            limit: limits.max_bytes,
        });
    }
    let base = if input.starts_with(BOM) { BOM.len() } else { 0 };
    let body = input.get(base..).unwrap_or_default();
    let text = std::str::from_utf8(body).map_err(|e| XmlError::NotUtf8 {
        offset: base + e.valid_up_to(),
    })?;
    // Literal characters outside XML's Char set (NUL, most C0 controls, U+FFFE, U+FFFF) are
    // refused wherever they are; references are checked where they are resolved. ASCII is
    // judged by its byte; only other characters are decoded.
    let refused = first_refused_char(text.as_bytes());
    if let Some(at) = refused {
        return Err(malformed(text, at, "a character XML does not allow"));
    }
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        base,
        limits,
        nodes: Vec::new(),
        parents: Vec::new(),
        top: Vec::new(),
        root: None,
        ids: HashMap::new(),
        open: Vec::new(),
        scope: tag::Scope::new(),
        pending: String::new(),
    };
    // About one node per 16 bytes of markup-heavy XML: reserved once rather than grown (and
    // moved) a dozen times; never more than the limit allows.
    let expected_nodes = (text.len() / 16).min(limits.max_nodes).min(1 << 16);
    parser.nodes.reserve(expected_nodes);
    parser.parents.reserve(expected_nodes);
    parser.declaration()?;
    parser.content()?;
    let root = parser
        .root
        .ok_or_else(|| malformed(text, text.len(), "no root element"))?;
    Ok(Document {
        nodes: parser.nodes,
        parents: parser.parents,
        top: parser.top,
        root,
        ids: parser.ids,
    })
}

/// Where the first character outside XML's Char set is, judged on the UTF-8 bytes: a C0
/// control other than TAB, LF and CR, or U+FFFE / U+FFFF (EF BF BE, EF BF BF). Every other
/// scalar value UTF-8 can encode is a Char (surrogates cannot be encoded in valid UTF-8).
fn first_refused_char(bytes: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(k) = bytes
        .get(from..)?
        .iter()
        .position(|&b| b < 0x20 || b == 0xEF)
    {
        let at = from + k;
        let refused = match bytes.get(at) {
            Some(0xEF) => {
                bytes.get(at + 1) == Some(&0xBF) && matches!(bytes.get(at + 2), Some(0xBE | 0xBF))
            }
            Some(&b) => !is_space(b),
            None => false,
        };
        if refused {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// An element whose end tag is still to come.
struct Open {
    id: NodeId,
    /// Where its name is in the text, to match the end tag against.
    name: std::ops::Range<usize>,
    /// The namespace scope's depth before its declarations.
    scope_mark: usize,
}

struct Parser<'a> {
    /// The input after the BOM.
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// Bytes before `text` in the input (the BOM): spans are offsets into the input.
    base: usize,
    limits: &'a Limits,
    nodes: Vec<Node>,
    parents: Vec<Option<NodeId>>,
    top: Vec<NodeId>,
    root: Option<NodeId>,
    ids: HashMap<String, NodeId>,
    open: Vec<Open>,
    scope: tag::Scope,
    /// Character data and CDATA read since the last markup: one text node when flushed.
    pending: String,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &[u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }

    fn starts_with(&self, s: &str) -> bool {
        self.rest().starts_with(s.as_bytes())
    }

    fn err(&self, what: impl Into<String>) -> XmlError {
        malformed(self.text, self.pos, what)
    }

    /// Skips whitespace; whether there was any.
    fn skip_space(&mut self) -> bool {
        let n = self.rest().iter().take_while(|b| is_space(**b)).count();
        self.pos += n;
        n > 0
    }

    fn expect(&mut self, s: &str) -> Result<(), XmlError> {
        if self.starts_with(s) {
            self.pos += s.len();
            Ok(())
        } else {
            Err(self.err(format!("expected {s:?}")))
        }
    }

    /// Reads a Name at the cursor; its byte range.
    fn name(&mut self) -> Result<std::ops::Range<usize>, XmlError> {
        let start = self.pos;
        let rest = self.text.get(start..).unwrap_or_default();
        // Most names are ASCII: judged byte by byte, and only a name that reaches a non-ASCII
        // character is read again character by character.
        let ascii = rest
            .bytes()
            .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-' | b'.')))
            .unwrap_or(rest.len());
        let first_ok = rest
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || matches!(b, b':' | b'_'));
        if first_ok && rest.as_bytes().get(ascii).is_none_or(|b| b.is_ascii()) {
            self.pos += ascii;
            return Ok(start..start + ascii);
        }
        let mut len = 0;
        for (i, c) in rest.char_indices() {
            let ok = if i == 0 {
                lex::is_name_start(c)
            } else {
                lex::is_name_char(c)
            };
            if !ok {
                break;
            }
            len = i + c.len_utf8();
        }
        if len == 0 {
            return Err(self.err("expected a name"));
        }
        self.pos += len;
        Ok(start..start + len)
    }

    fn slice(&self, range: std::ops::Range<usize>) -> &'a str {
        self.text.get(range).unwrap_or_default()
    }

    /// The position of `pattern` at or after the cursor.
    fn find(&self, pattern: &str) -> Option<usize> {
        let rest = self.text.get(self.pos..)?;
        rest.find(pattern).map(|i| self.pos + i)
    }

    /// The position of the byte `b` at or after the cursor (a one-byte pattern without the
    /// set-up `str::find` pays for a substring search).
    fn find_byte(&self, b: u8) -> Option<usize> {
        self.rest()
            .iter()
            .position(|x| *x == b)
            .map(|i| self.pos + i)
    }

    /// A quoted value at the cursor: its raw text's range, the cursor after the closing quote.
    fn quoted(&mut self) -> Result<std::ops::Range<usize>, XmlError> {
        let quote = match self.rest().first() {
            Some(b'"') => b'"',
            Some(b'\'') => b'\'',
            _ => return Err(self.err("expected a quoted value")),
        };
        self.pos += 1;
        let end = self
            .find_byte(quote)
            .ok_or_else(|| self.err("unterminated quoted value"))?;
        let range = self.pos..end;
        self.pos = end + 1;
        Ok(range)
    }

    /// The XML declaration, if the document starts with one (only there is it allowed).
    fn declaration(&mut self) -> Result<(), XmlError> {
        let is_decl = self.starts_with("<?xml") && self.rest().get(5).is_some_and(|b| is_space(*b));
        if !is_decl {
            return Ok(());
        }
        self.pos += 5;
        self.skip_space();
        self.expect("version")?;
        let version = self.pseudo_attribute_value()?;
        let digits = self.slice(version.clone()).strip_prefix("1.");
        if !digits.is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())) {
            return Err(malformed(
                self.text,
                version.start,
                "unsupported XML version",
            ));
        }
        let mut spaced = self.skip_space();
        if spaced && self.starts_with("encoding") {
            self.pos += "encoding".len();
            let name = self.pseudo_attribute_value()?;
            let name = self.slice(name);
            let well_formed = name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
            if !well_formed {
                return Err(self.err("malformed encoding name"));
            }
            lex::check_encoding(name)?;
            spaced = self.skip_space();
        }
        if spaced && self.starts_with("standalone") {
            self.pos += "standalone".len();
            let value = self.pseudo_attribute_value()?;
            if !matches!(self.slice(value), "yes" | "no") {
                return Err(self.err("standalone must be \"yes\" or \"no\""));
            }
            self.skip_space();
        }
        self.expect("?>")
    }

    /// `S? = S? "value"` after a pseudo-attribute's name.
    fn pseudo_attribute_value(&mut self) -> Result<std::ops::Range<usize>, XmlError> {
        self.skip_space();
        self.expect("=")?;
        self.skip_space();
        self.quoted()
    }

    /// Everything after the XML declaration: one loop over markup and text.
    fn content(&mut self) -> Result<(), XmlError> {
        while let Some(&b) = self.rest().first() {
            if b != b'<' {
                self.text_run()?;
            } else if self.starts_with("<!--") {
                self.comment()?;
            } else if self.starts_with("<![CDATA[") {
                self.cdata()?;
            } else if self.starts_with("<!DOCTYPE") {
                return Err(XmlError::Doctype);
            } else if self.starts_with("<!") {
                return Err(self.err("unexpected markup declaration"));
            } else if self.starts_with("<?") {
                self.processing_instruction()?;
            } else if self.starts_with("</") {
                self.end_tag()?;
            } else {
                self.start_tag()?;
            }
        }
        if !self.open.is_empty() {
            return Err(self.err("an element is not closed"));
        }
        Ok(())
    }

    /// Character data up to the next `<`.
    fn text_run(&mut self) -> Result<(), XmlError> {
        let start = self.pos;
        let end = self.find_byte(b'<').unwrap_or(self.text.len());
        let raw = self.slice(start..end);
        if self.open.is_empty() {
            // Outside the root only whitespace may appear, and it is not kept.
            if let Some(i) = raw.bytes().position(|b| !is_space(b)) {
                let what = if self.root.is_some() {
                    "content after the root element"
                } else {
                    "text outside the root element"
                };
                return Err(malformed(self.text, start + i, what));
            }
        } else {
            let closes_cdata = raw.contains(']').then(|| raw.find("]]>")).flatten();
            if let Some(i) = closes_cdata {
                return Err(malformed(self.text, start + i, "']]>' in character data"));
            }
            decode(self.text, start, raw, Run::Text, &mut self.pending)?;
        }
        self.pos = end;
        Ok(())
    }

    fn cdata(&mut self) -> Result<(), XmlError> {
        if self.open.is_empty() {
            return Err(self.err("a CDATA section outside the root element"));
        }
        let start = self.pos + "<![CDATA[".len();
        self.pos = start;
        let end = self
            .find("]]>")
            .ok_or_else(|| self.err("unterminated CDATA section"))?;
        let raw = self.slice(start..end);
        decode(self.text, start, raw, Run::Literal, &mut self.pending)?;
        self.pos = end + 3;
        Ok(())
    }

    fn comment(&mut self) -> Result<(), XmlError> {
        let start = self.pos + "<!--".len();
        self.pos = start;
        let end = self
            .find("--")
            .ok_or_else(|| self.err("unterminated comment"))?;
        if self.bytes.get(end + 2) != Some(&b'>') {
            return Err(malformed(self.text, end, "'--' inside a comment"));
        }
        let mut data = String::new();
        decode(
            self.text,
            start,
            self.slice(start..end),
            Run::Literal,
            &mut data,
        )?;
        self.pos = end + 3;
        self.push(Node::Comment(data))?;
        Ok(())
    }

    fn processing_instruction(&mut self) -> Result<(), XmlError> {
        let start = self.pos;
        self.pos += 2;
        let target = self.name()?;
        let target = self.slice(target);
        if target.eq_ignore_ascii_case("xml") {
            return Err(malformed(
                self.text,
                start,
                "an XML declaration not at the start, or a PI named 'xml'",
            ));
        }
        if target.contains(':') {
            return Err(malformed(self.text, start, "a colon in a PI target"));
        }
        let target = target.to_string();
        let mut data = String::new();
        if !self.starts_with("?>") {
            if !self.skip_space() {
                return Err(self.err("expected whitespace after the PI target"));
            }
            let from = self.pos;
            let end = self.find("?>").ok_or_else(|| self.err("unterminated PI"))?;
            decode(
                self.text,
                from,
                self.slice(from..end),
                Run::Literal,
                &mut data,
            )?;
            self.pos = end;
        }
        self.pos += 2;
        self.push(Node::ProcessingInstruction { target, data })?;
        Ok(())
    }

    fn end_tag(&mut self) -> Result<(), XmlError> {
        let start = self.pos;
        self.pos += 2;
        let name = self.name()?;
        self.skip_space();
        self.expect(">")?;
        let Some(open) = self.open.last() else {
            return Err(malformed(
                self.text,
                start,
                "an end tag without a start tag",
            ));
        };
        if self.slice(name.clone()) != self.slice(open.name.clone()) {
            let what = format!(
                "end tag </{}> does not match <{}>",
                self.slice(name),
                self.slice(open.name.clone())
            );
            return Err(malformed(self.text, start, what));
        }
        self.flush_text()?;
        let Some(open) = self.open.pop() else {
            return Ok(());
        };
        self.scope.pop_to(open.scope_mark);
        let span = self.base + start..self.base + self.pos;
        if let Some(Node::Element(e)) = self.nodes.get_mut(open.id.0 as usize) {
            e.end_tag = Some(span);
        }
        Ok(())
    }

    /// The text read since the last markup, as a text node of the open element.
    fn flush_text(&mut self) -> Result<(), XmlError> {
        if !self.pending.is_empty() {
            let text = std::mem::take(&mut self.pending);
            self.push(Node::Text(text))?;
        }
        Ok(())
    }

    /// Appends a node as the last child of the open element (or of the document), flushing
    /// the text before it first.
    fn push(&mut self, node: Node) -> Result<NodeId, XmlError> {
        if !matches!(node, Node::Text(_)) {
            self.flush_text()?;
        }
        let too_many = XmlError::TooManyNodes {
            limit: self.limits.max_nodes,
        };
        if self.nodes.len() >= self.limits.max_nodes {
            return Err(too_many);
        }
        let id = NodeId(u32::try_from(self.nodes.len()).map_err(|_| too_many)?);
        let parent = self.open.last().map(|o| o.id);
        self.nodes.push(node);
        self.parents.push(parent);
        match parent.and_then(|p| self.nodes.get_mut(p.0 as usize)) {
            Some(Node::Element(e)) => e.children.push(id),
            _ => self.top.push(id),
        }
        Ok(id)
    }
}
