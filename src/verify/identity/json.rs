//! The applicant's numbers read from JSON content without building the whole document: only
//! the values the configured pointers end at are built (as `serde_json::Value`s, so they read
//! exactly as before), everything else is parsed and dropped. The parse itself is serde_json's
//! own — the same syntax, recursion limit and number checks as `from_slice::<Value>` — so a
//! content is JSON here exactly when it was before; only the allocations of the parts nobody
//! asks for are gone (a `Value` per node, a `String` per key and string).

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

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

/// Most pointers followed at once (a bit each in [`Search::active`]); more go the slow way.
pub(super) const MAX_POINTERS: usize = 64;

/// The search below one JSON value at `depth` tokens down: the pointers still on their way
/// (`active`, bits into `pointers`), and each pointer's answer so far.
struct Search<'s, 'p> {
    pointers: &'p [&'p str],
    found: &'s mut [Option<Value>],
    active: u64,
    depth: usize,
}

impl Search<'_, '_> {
    fn each(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.pointers.len()).filter(|i| self.active & (1 << i) != 0)
    }

    /// Pointer `i` after its first `depth` tokens: `""` when it ends here.
    fn rest(&self, i: usize) -> &str {
        let p = self.pointers[i];
        let mut rest = p;
        for _ in 0..self.depth {
            rest = rest[1..].find('/').map_or("", |end| &rest[1 + end..]);
        }
        rest
    }

    /// The active pointers whose next token `matches`; their answers start again from
    /// nothing (a repeated member replaces the earlier one, as in a `Value`'s map).
    fn below(&mut self, matches: impl Fn(&str) -> bool) -> u64 {
        let mut below = 0;
        for i in self.each() {
            let rest = self.rest(i);
            let token = rest[1..].split('/').next().unwrap_or_default();
            if matches(&unescape(token)) {
                below |= 1 << i;
            }
        }
        for i in 0..self.pointers.len() {
            if below & (1 << i) != 0 {
                self.found[i] = None;
            }
        }
        below
    }

    fn child(&mut self, active: u64) -> Search<'_, '_> {
        Search {
            pointers: self.pointers,
            found: self.found,
            active,
            depth: self.depth + 1,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Search<'_, '_> {
    type Value = ();

    /// Where a pointer ends, the value is read whole (and any pointer going on below it is
    /// answered from it); elsewhere only the members and elements some pointer goes through.
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        if self.each().any(|i| self.rest(i).is_empty()) {
            let value: Value = serde::Deserialize::deserialize(deserializer)?;
            for i in 0..self.pointers.len() {
                if self.active & (1 << i) != 0 {
                    self.found[i] = value.pointer(self.rest(i)).cloned();
                }
            }
            return Ok(());
        }
        deserializer.deserialize_any(self)
    }
}

/// Scalars: no pointer goes through them. Containers: the members and elements some pointer
/// goes through are searched, the others parsed and dropped.
impl<'de> Visitor<'de> for Search<'_, '_> {
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
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(Key)? {
            match self.below(|token| token == key.as_ref()) {
                0 => map.next_value_seed(Discard)?,
                below => map.next_value_seed(self.child(below))?,
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        for at in 0.. {
            let more = match self.below(|token| index(token) == Some(at)) {
                0 => seq.next_element_seed(Discard)?,
                below => seq.next_element_seed(self.child(below))?,
            };
            if more.is_none() {
                break;
            }
        }
        Ok(())
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

/// `Value::pointer(p)` for each of `pointers` (at most [`MAX_POINTERS`]) on `content` read as
/// JSON; `None` if it is not JSON.
pub(super) fn find(content: &[u8], pointers: &[&str]) -> Option<Vec<Option<Value>>> {
    let mut found = vec![None; pointers.len()];
    // Pointers that neither are empty nor start with `/` reach nothing (`Value::pointer`).
    let active = (0..pointers.len().min(MAX_POINTERS))
        .filter(|i| pointers[*i].is_empty() || pointers[*i].starts_with('/'))
        .fold(0u64, |active, i| active | 1 << i);
    let search = Search {
        pointers,
        found: &mut found,
        active,
        depth: 0,
    };
    let mut deserializer = serde_json::Deserializer::from_slice(content);
    search.deserialize(&mut deserializer).ok()?;
    deserializer.end().ok()?;
    Some(found)
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
            let found = find(text.as_bytes(), &[p]).expect("json");
            assert_eq!(found[0].as_ref(), json.pointer(p), "{p}");
        }
        let found = find(text.as_bytes(), &pointers).expect("json");
        for (p, found) in pointers.iter().zip(&found) {
            assert_eq!(found.as_ref(), json.pointer(p), "{p}");
        }
        let nested: Value = serde_json::from_str(r#"[[1,[2,{"k":"v"}]]]"#).expect("json");
        let found = find(br#"[[1,[2,{"k":"v"}]]]"#, &["/0/1/1/k", "/0/1"]).expect("json");
        assert_eq!(found[0].as_ref(), nested.pointer("/0/1/1/k"));
        assert_eq!(found[1].as_ref(), nested.pointer("/0/1"));
        // A repeated member replaces the earlier one, whatever it held.
        let found = find(br#"{"a":{"b":1},"a":5}"#, &["/a/b"]).expect("json");
        assert_eq!(found[0], None);
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
            for pointers in [&[][..], &["/a"], &["/a/b", "/0"], &[""]] {
                assert!(find(bad, pointers).is_none(), "{bad:?}");
            }
        }
        let fine = br#"{"a":{"b":[1,2.5,"\u00e9\n",null,true]},"c":"x"}"#;
        assert!(serde_json::from_slice::<Value>(fine).is_ok());
        assert!(find(fine, &["/c"]).is_some());
    }
}
