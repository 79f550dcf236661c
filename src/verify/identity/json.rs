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

/// Pointer `p` after its first `depth` tokens: `""` when it ends there.
fn rest(p: &str, depth: usize) -> &str {
    let mut rest = p;
    for _ in 0..depth {
        let body = rest.get(1..).unwrap_or_default();
        rest = body
            .bytes()
            .position(|b| b == b'/')
            .map_or("", |end| &body[end..]);
    }
    rest
}

/// The search below one JSON value at `depth` tokens down: the pointers still on their way
/// (`active`, bits into the pointers of `lists`, numbered in order), and each pointer's answer
/// so far.
struct Search<'s, 'p> {
    lists: [&'p [String]; 2],
    found: &'s mut [Option<Value>],
    active: u64,
    depth: usize,
}

impl<'p> Search<'_, 'p> {
    fn len(&self) -> usize {
        self.found.len()
    }

    /// Beyond [`MAX_POINTERS`] nothing is active (no shift past the mask's width).
    fn is_active(&self, i: usize) -> bool {
        let bit = u32::try_from(i).ok().and_then(|i| 1u64.checked_shl(i));
        bit.is_some_and(|bit| self.active & bit != 0)
    }

    /// Active pointer `i`, after the tokens that led here.
    fn rest(&self, i: usize) -> &'p str {
        let [first, second] = self.lists;
        let p = match first.get(i) {
            Some(p) => p,
            None => second.get(i - first.len()).map_or("", String::as_str),
        };
        rest(p, self.depth)
    }

    /// The active pointers whose next token `matches`; their answers start again from
    /// nothing (a repeated member replaces the earlier one, as in a `Value`'s map).
    fn below(&mut self, matches: impl Fn(&str) -> bool) -> u64 {
        let mut below = 0;
        for i in 0..self.len() {
            if !self.is_active(i) {
                continue;
            }
            let rest = self.rest(i).get(1..).unwrap_or_default();
            let token = rest.split('/').next().unwrap_or_default();
            if matches(&unescape(token)) {
                below |= 1 << i;
                self.found[i] = None;
            }
        }
        below
    }

    fn child(&mut self, active: u64) -> Search<'_, 'p> {
        Search {
            lists: self.lists,
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
        if !(0..self.len()).any(|i| self.is_active(i) && self.rest(i).is_empty()) {
            return deserializer.deserialize_any(self);
        }
        let value: Value = serde::Deserialize::deserialize(deserializer)?;
        // The value itself goes to a pointer that ends here (a copy to any other that does).
        let mut whole = None;
        for i in 0..self.len() {
            if !self.is_active(i) {
                continue;
            }
            match self.rest(i) {
                "" => {
                    if let Some(earlier) = whole.replace(i) {
                        self.found[earlier] = Some(value.clone());
                    }
                }
                rest => self.found[i] = value.pointer(rest).cloned(),
            }
        }
        if let Some(i) = whole {
            self.found[i] = Some(value);
        }
        Ok(())
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

/// `Value::pointer(p)` for each pointer of `lists`, in order (at most [`MAX_POINTERS`]), on
/// `content` read as JSON; `None` if it is not JSON.
pub(super) fn find(content: &[u8], lists: [&[String]; 2]) -> Option<Vec<Option<Value>>> {
    let pointers = lists.iter().flat_map(|list| list.iter());
    let mut found = vec![None; lists[0].len() + lists[1].len()];
    // Pointers that neither are empty nor start with `/` reach nothing (`Value::pointer`).
    let active = (pointers.enumerate().take(MAX_POINTERS))
        .filter(|(_, p)| p.is_empty() || p.starts_with('/'))
        .fold(0u64, |active, (i, _)| active | 1 << i);
    let search = Search {
        lists,
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
        let owned = |ps: &[&str]| ps.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        for p in pointers {
            let found = find(text.as_bytes(), [&owned(&[p]), &[]]).expect("json");
            assert_eq!(found[0].as_ref(), json.pointer(p), "{p}");
        }
        let (first, second) = pointers.split_at(7);
        let found = find(text.as_bytes(), [&owned(first), &owned(second)]).expect("json");
        for (p, found) in pointers.iter().zip(&found) {
            assert_eq!(found.as_ref(), json.pointer(p), "{p}");
        }
        // The same pointer twice, in one list and across both: each answered.
        let twice = owned(&["/applicant/iin", "/applicant/iin"]);
        let found = find(text.as_bytes(), [&twice, &twice]).expect("json");
        assert!(found
            .iter()
            .all(|f| f.as_ref() == json.pointer("/applicant/iin")));
        let nested: Value = serde_json::from_str(r#"[[1,[2,{"k":"v"}]]]"#).expect("json");
        let pointers = owned(&["/0/1/1/k", "/0/1"]);
        let found = find(br#"[[1,[2,{"k":"v"}]]]"#, [&pointers, &[]]).expect("json");
        assert_eq!(found[0].as_ref(), nested.pointer("/0/1/1/k"));
        assert_eq!(found[1].as_ref(), nested.pointer("/0/1"));
        // A repeated member replaces the earlier one, whatever it held.
        let found = find(br#"{"a":{"b":1},"a":5}"#, [&owned(&["/a/b"]), &[]]).expect("json");
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
                let pointers: Vec<String> = pointers.iter().map(|p| p.to_string()).collect();
                assert!(find(bad, [&pointers, &[]]).is_none(), "{bad:?}");
            }
        }
        let fine = br#"{"a":{"b":[1,2.5,"\u00e9\n",null,true]},"c":"x"}"#;
        assert!(serde_json::from_slice::<Value>(fine).is_ok());
        assert!(find(fine, [&["/c".to_string()], &[]]).is_some());
    }
}
