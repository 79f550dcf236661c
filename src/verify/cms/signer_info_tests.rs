//! The borrowed SignerInfo against the cms crate: on every SignerInfo of every CMS among the
//! fixtures (and the time-stamp tokens inside them), and on mutants of each — bytes changed,
//! cut short, SETs reordered, elements dropped or doubled, lengths written long — both accept
//! or both refuse, with the same error, and what is accepted reads the same.

use std::path::{Path, PathBuf};

use der::{Decode, Encode, Header, Reader, SliceReader};

use super::{decode, retagged, Decoded, SignerInfoRef};

/// What the pipeline did before the borrowed reader: the cms crate's decoding, bounded first.
fn cms_crate(raw: &[u8]) -> Result<cms::signed_data::SignerInfo, String> {
    let widest = crate::x509::widest_set(raw).map_err(|e| e.to_string())?;
    if widest > crate::x509::MAX_SET_ELEMENTS {
        return Err(format!(
            "malformed SignerInfo: a SET of {widest} elements (at most {} are read)",
            crate::x509::MAX_SET_ELEMENTS
        ));
    }
    cms::signed_data::SignerInfo::from_der(raw).map_err(|x| format!("malformed SignerInfo: {x}"))
}

/// Which way `raw` was read, after checking it reads as the cms crate reads it.
#[derive(Debug, PartialEq, Eq)]
enum Way {
    Refused,
    /// Read by the byte-level reader.
    Fast,
    /// Read where it lies by the der derives (the byte-level reader declined).
    Received,
    Canonical,
}

/// The byte-level reader's view and attributes are the der derives' own: the same fields (each
/// re-encodes to the same DER), the same SETs, the same attributes in the same order.
fn same_as_the_derives(read: &super::Read<'_>, raw: &[u8]) {
    let derived = SignerInfoRef::from_der(raw).unwrap_or_else(|e| {
        panic!(
            "the byte-level reader accepts what the derives refuse ({e}): {}",
            hex::encode(raw)
        )
    });
    assert_eq!(
        read.view.to_der().expect("encodes"),
        derived.to_der().expect("encodes"),
        "{}",
        hex::encode(raw)
    );
    let listed = |set: Option<&super::SetOfRef<'_, super::AttributeRef<'_>>>| {
        set.map_or(Vec::new(), |set| {
            set.iter()
                .map(|a| {
                    let (a, _) = a.expect("attribute");
                    (a.to_der().expect("encodes"), a.values.len())
                })
                .collect()
        })
    };
    let own = |list: &[super::AttributeRef<'_>]| -> Vec<(Vec<u8>, usize)> {
        (list.iter())
            .map(|a| (a.to_der().expect("encodes"), a.values.len()))
            .collect()
    };
    for (mine, theirs, set) in [
        (
            &read.signed,
            derived.signed_attrs.as_ref(),
            read.view.signed_attrs.as_ref(),
        ),
        (
            &read.unsigned,
            derived.unsigned_attrs.as_ref(),
            read.view.unsigned_attrs.as_ref(),
        ),
    ] {
        assert_eq!(own(mine), listed(theirs), "{}", hex::encode(raw));
        assert_eq!(set.map(|s| s.len()), theirs.map(|s| s.len()));
        assert_eq!(listed(set), listed(theirs));
    }
}

fn agree(raw: &[u8]) -> Way {
    let (expected, decoded) = (cms_crate(raw), decode(raw));
    let (expected, decoded) = match (expected, decoded) {
        (Err(expected), Err(found)) => {
            assert_eq!(expected, found, "{}", hex::encode(raw));
            return Way::Refused;
        }
        (Ok(expected), Ok(decoded)) => (expected, decoded),
        (expected, decoded) => panic!(
            "the cms crate says {:?}, the borrowed reader {:?}: {}",
            expected.map(|_| ()),
            decoded.map(|_| ()),
            hex::encode(raw)
        ),
    };
    let canonical = expected.to_der().expect("re-encodes");
    let received_attrs = super::super::raw_signed_attrs(raw).expect("attrs");
    let (view, way) = match &decoded {
        Decoded::Read(read) => {
            same_as_the_derives(read, raw);
            let attrs = (read.view.signed_attrs.as_ref()).map(|set| retagged(set).expect("set"));
            assert_eq!(attrs, received_attrs, "signed attributes as received");
            (SignerInfoRef::from_der(raw).expect("view"), Way::Fast)
        }
        Decoded::Received(view) => {
            let attrs = view
                .signed_attrs
                .as_ref()
                .map(|set| retagged(set).expect("set"));
            assert_eq!(attrs, received_attrs, "signed attributes as received");
            (SignerInfoRef::from_der(raw).expect("view"), Way::Received)
        }
        Decoded::Canonical { der, received } => {
            assert_eq!(*received, raw);
            assert_eq!(*der, canonical);
            (SignerInfoRef::from_der(der).expect("view"), Way::Canonical)
        }
    };
    // Every field the same: the view encodes to the cms crate's encoding of what it decoded.
    assert_eq!(
        view.to_der().expect("encodes"),
        canonical,
        "{}",
        hex::encode(raw)
    );
    fn attributes(set: Option<&super::SetOfRef<'_, super::AttributeRef<'_>>>) -> usize {
        set.map_or(0, |set| {
            set.iter().fold(0, |n, a| {
                a.expect("attribute");
                n + 1
            })
        })
    }
    let owned = |set: &Option<x509_cert::attr::Attributes>| set.as_ref().map_or(0, |set| set.len());
    assert_eq!(
        attributes(view.signed_attrs.as_ref()),
        owned(&expected.signed_attrs)
    );
    assert_eq!(
        attributes(view.unsigned_attrs.as_ref()),
        owned(&expected.unsigned_attrs)
    );
    way
}

/// Each TLV of `der` that is a CMS SignedData, at any depth: the files' own, and tokens
/// inside them or inside the responses that carry them.
fn signed_datas(der: &[u8]) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    for start in 0..der.len() {
        if der[start] != 0x30 {
            continue;
        }
        let Ok(mut reader) = SliceReader::new(&der[start..]) else {
            continue;
        };
        let Ok(tlv) = reader.tlv_bytes() else {
            continue;
        };
        if super::super::walk(tlv).is_ok() {
            found.push(tlv.to_vec());
        }
    }
    found
}

fn files(dir: &Path, into: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, into);
        } else {
            into.push(path);
        }
    }
}

/// Every SignedData (its DER) in the fixtures, the Kalkan samples and the fuzzer's seeds and
/// corpus.
fn fixture_signed_datas() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    for dir in [
        "fixtures",
        "tests/fixtures",
        "../shared/kalkan-samples",
        "fuzz/seeds",
        // Not fuzz/corpus: it is not committed, grows with every local fuzzing run and holds
        // inputs both readers rightly refuse, so "every fixture reads" would depend on history.
    ] {
        files(&root.join(dir), &mut paths);
    }
    let mut found = Vec::new();
    for path in paths {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let mut ders = vec![bytes.clone()];
        ders.extend(crate::x509::decode_der(&bytes));
        ders.extend(crate::x509::ber_to_der(&bytes).ok());
        for der in ders {
            found.extend(signed_datas(&der));
        }
    }
    found.sort();
    found.dedup();
    found
}

/// Every SignerInfo (its DER) of every SignedData in [`fixture_signed_datas`].
fn fixture_signer_infos() -> Vec<Vec<u8>> {
    let mut signer_infos = Vec::new();
    for signed_data in fixture_signed_datas() {
        let walked = super::super::walk(&signed_data).expect("walks");
        signer_infos.extend(walked.signer_infos.iter().map(|s| s.to_vec()));
    }
    signer_infos.sort();
    signer_infos.dedup();
    signer_infos
}

/// A DER tree, to be changed and written again with its lengths recomputed.
#[derive(Clone)]
enum Node {
    Primitive(Vec<u8>),
    Constructed(u8, Vec<Node>),
}

fn tree(der: &[u8]) -> Option<Vec<Node>> {
    let mut reader = SliceReader::new(der).ok()?;
    let mut nodes = Vec::new();
    while !reader.is_finished() {
        let tlv = reader.tlv_bytes().ok()?;
        let mut inner = SliceReader::new(tlv).ok()?;
        let header = Header::decode(&mut inner).ok()?;
        let value = inner.read_slice(header.length).ok()?;
        nodes.push(if tlv[0] & 0x20 != 0 {
            match tree(value) {
                Some(children) => Node::Constructed(tlv[0], children),
                None => Node::Primitive(tlv.to_vec()),
            }
        } else {
            Node::Primitive(tlv.to_vec())
        });
    }
    Some(nodes)
}

fn length(len: usize, long: bool, out: &mut Vec<u8>) {
    if len < 0x80 && !long {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len().max(1) as u8);
        if bytes.is_empty() {
            out.push(0);
        }
        out.extend(bytes);
    }
}

/// `long_at`: the index (in writing order) of the one constructed node whose length is
/// written in the long form, minimal or not.
fn write(nodes: &[Node], long_at: Option<usize>, counter: &mut usize, out: &mut Vec<u8>) {
    for node in nodes {
        match node {
            Node::Primitive(tlv) => out.extend_from_slice(tlv),
            Node::Constructed(tag, children) => {
                let long = long_at == Some(*counter);
                *counter += 1;
                let mut value = Vec::new();
                write(children, long_at, counter, &mut value);
                out.push(*tag);
                length(value.len(), long, out);
                out.extend(value);
            }
        }
    }
}

fn serialise(nodes: &[Node], long_at: Option<usize>) -> Vec<u8> {
    let mut out = Vec::new();
    write(nodes, long_at, &mut 0, &mut out);
    out
}

/// The constructed nodes' child lists, by path, so each can be changed in a copy.
fn constructed_paths(nodes: &[Node], prefix: &mut Vec<usize>, into: &mut Vec<Vec<usize>>) {
    for (i, node) in nodes.iter().enumerate() {
        if let Node::Constructed(_, children) = node {
            prefix.push(i);
            into.push(prefix.clone());
            constructed_paths(children, prefix, into);
            prefix.pop();
        }
    }
}

fn children_at<'a>(nodes: &'a mut [Node], path: &[usize]) -> &'a mut Vec<Node> {
    let (first, rest) = path.split_first().expect("a path");
    let Node::Constructed(_, children) = &mut nodes[*first] else {
        unreachable!("paths lead to constructed nodes")
    };
    if rest.is_empty() {
        children
    } else {
        children_at(children, rest)
    }
}

/// Structural mutants: in each constructed node, the children reversed, each adjacent pair
/// swapped, each child dropped and each doubled; and each length written in the long form.
fn structural_mutants(raw: &[u8]) -> Vec<Vec<u8>> {
    let Some(nodes) = tree(raw) else {
        return Vec::new();
    };
    let mut paths = Vec::new();
    constructed_paths(&nodes, &mut Vec::new(), &mut paths);
    let mut mutants = Vec::new();
    for path in &paths {
        let count = {
            let mut copy = nodes.clone();
            children_at(&mut copy, path).len()
        };
        let mut change = |f: &dyn Fn(&mut Vec<Node>)| {
            let mut copy = nodes.clone();
            f(children_at(&mut copy, path));
            mutants.push(serialise(&copy, None));
        };
        change(&|c| c.reverse());
        for i in 0..count.min(8) {
            change(&|c| {
                c.remove(i);
            });
            change(&|c| {
                let twin = c[i].clone();
                c.insert(i, twin);
            });
            if i + 1 < count {
                change(&|c| c.swap(i, i + 1));
            }
        }
    }
    for long_at in 0..paths.len() {
        mutants.push(serialise(&nodes, Some(long_at)));
    }
    mutants
}

/// Byte mutants: each byte of the first 600 changed four ways, and cuts.
fn byte_mutants(raw: &[u8]) -> Vec<Vec<u8>> {
    let mut mutants = Vec::new();
    for at in 0..raw.len().min(600) {
        for change in [0x00, 0xFF, raw[at].wrapping_add(1), raw[at] ^ 0x20] {
            if change != raw[at] {
                let mut mutant = raw.to_vec();
                mutant[at] = change;
                mutants.push(mutant);
            }
        }
    }
    for cut in (0..raw.len()).step_by(7) {
        mutants.push(raw[..cut].to_vec());
    }
    let mut longer = raw.to_vec();
    longer.push(0);
    mutants.push(longer);
    mutants
}

#[test]
fn borrowed_reads_as_the_cms_crate() {
    let signer_infos = fixture_signer_infos();
    assert!(
        signer_infos.len() >= 8,
        "the fixtures hold {} SignerInfos",
        signer_infos.len()
    );
    let mut ways = std::collections::BTreeMap::<String, usize>::new();
    for raw in &signer_infos {
        let way = agree(raw);
        assert_ne!(way, Way::Refused, "a fixture's SignerInfo is refused");
        *ways.entry(format!("fixture {way:?}")).or_default() += 1;
        for mutant in structural_mutants(raw).iter().chain(&byte_mutants(raw)) {
            *ways
                .entry(format!("mutant {:?}", agree(mutant)))
                .or_default() += 1;
        }
    }
    // Each way is exercised: read where it lies (byte by byte, and by the der derives where
    // the byte-level reader declines), read through the cms crate, refused.
    for way in [
        "fixture Fast",
        "mutant Fast",
        "mutant Received",
        "mutant Canonical",
        "mutant Refused",
    ] {
        assert!(ways.contains_key(way), "{way} never happened: {ways:?}");
    }
    println!("{ways:?}");
}

#[test]
fn unsorted_signed_attributes_are_read_sorted_and_verified_as_received() {
    let raw = fixture_signer_infos()
        .into_iter()
        .find(|raw| matches!(decode(raw), Ok(Decoded::Read(read)) if read.view.signed_attrs.is_some_and(|s| s.len() >= 3)))
        .expect("a SignerInfo with signed attributes");
    let mut nodes = tree(&raw).expect("tree");
    let Node::Constructed(_, fields) = &mut nodes[0] else {
        panic!("a SEQUENCE")
    };
    let Node::Constructed(0xA0, attrs) = &mut fields[3] else {
        panic!("signed attributes")
    };
    attrs.reverse();
    let unsorted = serialise(&nodes, None);
    assert_eq!(agree(&unsorted), Way::Canonical);
    let Ok(Decoded::Canonical { der, .. }) = decode(&unsorted) else {
        panic!("read through the cms crate")
    };
    // The view is the sorted one, the signed bytes those received.
    let view = SignerInfoRef::from_der(&der).expect("view");
    let sorted = retagged(view.signed_attrs.as_ref().expect("attrs")).expect("set");
    let received = super::super::raw_signed_attrs(&unsorted)
        .expect("raw")
        .expect("attrs");
    assert_ne!(sorted, received);
    assert_eq!(sorted.len(), received.len());
    let mut reader = SliceReader::new(&received).expect("reader");
    assert!(reader.tlv_bytes().is_ok() && reader.is_finished());
}

/// The byte-level walk of a SignedData (`quick_walk`) against the der walk, on every SignedData
/// among the fixtures and on their mutants: whatever it reads, the der walk reads alike.
#[test]
fn quick_walk_reads_as_the_der_walk() {
    let (mut quick, mut total, mut fixtures) = (0, 0, 0);
    for signed_data in fixture_signed_datas() {
        let mutants = structural_mutants(&signed_data);
        for der in std::iter::once(&signed_data)
            .chain(&mutants)
            .chain(&byte_mutants(&signed_data))
        {
            total += 1;
            let Some(fast) = super::super::quick_walk::walk(der) else {
                continue;
            };
            quick += 1;
            let slow = super::super::walk(der).unwrap_or_else(|e| {
                panic!(
                    "the quick walk reads what the der walk refuses ({e}): {}",
                    hex::encode(der)
                )
            });
            assert_eq!(fast.econtent_type, slow.econtent_type);
            assert_eq!(fast.econtent, slow.econtent);
            assert_eq!(fast.certificates, slow.certificates);
            assert_eq!(fast.crls, slow.crls);
            assert_eq!(fast.ocsp_responses, slow.ocsp_responses);
            assert_eq!(fast.signer_infos, slow.signer_infos);
        }
        if super::super::quick_walk::walk(&signed_data).is_some() {
            fixtures += 1;
        }
    }
    // The usual fixtures are read quickly, and the mutants exercise both walks.
    assert!(fixtures > 0, "no fixture is read quickly");
    assert!(
        quick > 0 && quick < total,
        "{quick} of {total} read quickly"
    );
    println!("{fixtures} fixtures, {quick} of {total} SignedDatas read quickly");
}
