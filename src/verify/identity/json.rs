//! The applicant's numbers read from JSON content without building the whole document: only
//! the values the configured pointers can reach are kept (as `serde_json::Value`s, so they read
//! exactly as before), everything else is parsed and dropped. The parse itself is serde_json's
//! own — the same syntax, recursion limit and number checks as `from_slice::<Value>` — so a
//! content is JSON here exactly when it was before; only the allocations of the parts nobody
//! asks for are gone (a `Value` per node, a `String` per key and string).

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// What is kept of a JSON value: whole where a pointer ends, else only the members and
/// elements some pointer goes through.
enum Kept {
    Whole(Value),
    Object(Vec<(String, Kept)>),
    Array(Vec<(usize, Kept)>),
    /// A scalar no pointer ends at (a pointer cannot go through it).
    Other,
}

/// serde_json's own pointer syntax: `~1` is `/`, `~0` is `~`.
fn unescape(token: &str) -> Cow<'_, str> {
    match token.contains('~') {
        true => Cow::Owned(token.replace("~1", "/").replace("~0", "~")),
        false => Cow::Borrowed(token),
    }
}

/// serde_json's array index rule: no sign, no leading zero.
fn index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() != 1) {
        return None;
    }
    token.parse().ok()
}

/// A pointer's first token (unescaped) and the rest of it; `p` starts with `/`.
fn split(p: &str) -> (Cow<'_, str>, &str) {
    let body = &p[1..];
    let end = body.find('/').unwrap_or(body.len());
    (unescape(&body[..end]), &body[end..])
}

/// The pointers still to follow below a value: each is `""` (the value itself) or starts with
/// `/` (pointers that start otherwise reach nothing and are dropped before the parse).
struct Wanted<'p>(Vec<&'p str>);

impl<'de> DeserializeSeed<'de> for Wanted<'_> {
    type Value = Kept;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Kept, D::Error> {
        if self.0.iter().any(|p| p.is_empty()) {
            return serde::Deserialize::deserialize(deserializer).map(Kept::Whole);
        }
        deserializer.deserialize_any(self)
    }
}

impl Wanted<'_> {
    /// The pointers that go on below the member or element `matches` accepts.
    fn below(&self, matches: impl Fn(&str) -> bool) -> Wanted<'_> {
        Wanted(
            (self.0.iter())
                .filter_map(|p| {
                    let (token, rest) = split(p);
                    matches(token.as_ref()).then_some(rest)
                })
                .collect(),
        )
    }
}

/// Scalars: kept as nothing. Containers: the members and elements the pointers go through.
impl<'de> Visitor<'de> for Wanted<'_> {
    type Value = Kept;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Kept, E> {
        Ok(Kept::Other)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Kept, E> {
        Ok(Kept::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Kept, E> {
        Ok(Kept::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Kept, E> {
        Ok(Kept::Other)
    }
    fn visit_str<E>(self, _: &str) -> Result<Kept, E> {
        Ok(Kept::Other)
    }
    fn visit_unit<E>(self) -> Result<Kept, E> {
        Ok(Kept::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kept, A::Error> {
        let mut kept: Vec<(String, Kept)> = Vec::new();
        while let Some(key) = map.next_key_seed(Key)? {
            let below = self.below(|token| token == key.as_ref());
            if below.0.is_empty() {
                map.next_value_seed(Discard)?;
                continue;
            }
            let value = map.next_value_seed(below)?;
            // A repeated member: the last one counts, as in a `Value`'s map.
            match kept.iter_mut().find(|(k, _)| *k == key.as_ref()) {
                Some(entry) => entry.1 = value,
                None => kept.push((key.into_owned(), value)),
            }
        }
        Ok(Kept::Object(kept))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kept, A::Error> {
        let mut kept = Vec::new();
        for at in 0.. {
            let below = self.below(|token| index(token) == Some(at));
            let element = match below.0.is_empty() {
                true => seq.next_element_seed(Discard)?.map(|()| None),
                false => seq.next_element_seed(below)?.map(Some),
            };
            match element {
                None => break,
                Some(Some(value)) => kept.push((at, value)),
                Some(None) => {}
            }
        }
        Ok(Kept::Array(kept))
    }
}

/// A member's name, borrowed from the input where it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(s))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(s.to_owned()))
    }
}

/// A value parsed in full (so malformed JSON is refused as before) and dropped.
struct Discard;

impl<'de> DeserializeSeed<'de> for Discard {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Discard {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Key)?.is_some() {
            map.next_value_seed(Discard)?;
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Discard)?.is_some() {}
        Ok(())
    }
}

/// A JSON document, keeping what `pointers` can reach; `None` if `content` is not JSON.
pub(super) struct Document(Kept);

impl Document {
    pub(super) fn parse<'p>(
        content: &[u8],
        pointers: impl Iterator<Item = &'p str>,
    ) -> Option<Self> {
        let wanted = Wanted(
            pointers
                .filter(|p| p.is_empty() || p.starts_with('/'))
                .collect(),
        );
        let mut deserializer = serde_json::Deserializer::from_slice(content);
        let kept = wanted.deserialize(&mut deserializer).ok()?;
        deserializer.end().ok()?;
        Some(Document(kept))
    }

    /// `Value::pointer(p)` on the whole document, for a `p` given to [`Document::parse`].
    pub(super) fn pointer(&self, p: &str) -> Option<&Value> {
        let mut at = &self.0;
        let mut rest = p;
        loop {
            match at {
                Kept::Whole(value) => return value.pointer(rest),
                _ if !rest.starts_with('/') => return None,
                Kept::Object(members) => {
                    let (token, below) = split(rest);
                    at = &members.iter().find(|(k, _)| *k == token)?.1;
                    rest = below;
                }
                Kept::Array(elements) => {
                    let (token, below) = split(rest);
                    let i = index(&token)?;
                    at = &elements.iter().find(|(at, _)| *at == i)?.1;
                    rest = below;
                }
                Kept::Other => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_find_what_serde_json_finds() {
        let text = r#"{"applicant":{"iin":"900517312343","list":["a",{"x":1}],"a/b":2,"m~n":3,"":4,
            "n":-12.5e3,"t":true,"z":null,"iin":"dup"},"applicant":{"iin":"last","bin":940140000385}}"#;
        let json: Value = serde_json::from_str(text).expect("json");
        let pointers = [
            "",
            "/",
            "/applicant",
            "/applicant/iin",
            "/applicant/bin",
            "/applicant/iin/x",
            "/applicant/list/0",
            "/applicant/list/1/x",
            "/applicant/list/01",
            "/applicant/list/+1",
            "/applicant/list/2",
            "/applicant/a~1b",
            "/applicant/m~0n",
            "/applicant/",
            "/applicant/n",
            "/applicant/t/x",
            "/nothing/iin",
            "applicant/iin",
        ];
        // Each alone, and all at once (pointers that share a path, one ending above another).
        for p in pointers {
            let doc = Document::parse(text.as_bytes(), std::iter::once(p)).expect("json");
            assert_eq!(doc.pointer(p), json.pointer(p), "{p}");
        }
        let doc = Document::parse(text.as_bytes(), pointers.into_iter()).expect("json");
        for p in pointers {
            assert_eq!(doc.pointer(p), json.pointer(p), "{p}");
        }
        let nested: Value = serde_json::from_str(r#"[[1,[2,{"k":"v"}]]]"#).expect("json");
        let doc = Document::parse(br#"[[1,[2,{"k":"v"}]]]"#, ["/0/1/1/k"].into_iter());
        assert_eq!(
            doc.expect("json").pointer("/0/1/1/k"),
            nested.pointer("/0/1/1/k")
        );
    }

    #[test]
    fn what_serde_json_refuses_is_not_json_here() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        for bad in [
            &b"{\"a\":1,}"[..],
            b"{\"a\":1} x",
            b"{\"a\":\"\xFF\"}",
            b"{\"a\":1e999}",
            b"{\"a\":\"\\ud800\"}",
            b"{\"\xC3\":1}",
            b"[1,]",
            b"plain text",
            deep.as_bytes(),
        ] {
            assert!(serde_json::from_slice::<Value>(bad).is_err());
            for pointers in [&[][..], &["/a"], &["/a/b", "/0"]] {
                assert!(
                    Document::parse(bad, pointers.iter().copied()).is_none(),
                    "{bad:?}"
                );
            }
        }
        let fine = br#"{"a":{"b":[1,2.5,"\u00e9\n",null,true]},"c":"x"}"#;
        assert!(serde_json::from_slice::<Value>(fine).is_ok());
        assert!(Document::parse(fine, ["/c"].into_iter()).is_some());
    }
}
