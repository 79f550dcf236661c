//! Our canonical XML against libxml2's, byte for byte: every document of the corpus
//! (fixtures/xml/c14n/, Kalkan's samples among them), whole and as the subtree of each element
//! that has an ID, in every method (inclusive 1.0 and 1.1, exclusive, each with and without
//! comments, and exclusive with an InclusiveNamespaces PrefixList).
//!
//! The peers, in one Python process:
//! - libxml2 itself through ctypes (`xmlC14NDocDumpMemory`), the reference for every case: a
//!   subtree is given to it as an XPath node set, `(//. | //@* | //namespace::*)[ancestor-or-
//!   self::*[@Id='…']]`, the way XMLDSig defines a same-document reference;
//! - lxml (`etree.tostring(…, method='c14n')`, its own newer libxml2) for C14N 1.0 and exclusive
//!   C14N. lxml drops from a PrefixList any prefix its document's dictionary lacks, `#default`
//!   always, so a list with `#default` is compared with libxml2 alone. On an element, lxml
//!   canonicalises a copy made the root of a document of its own (`_plainFakeRootDoc`): the
//!   `xml:` attributes of the element's ancestors are lost and their namespace declarations
//!   become copies that libxml2's inclusive walk reads differently (a stray `xmlns=""`), so
//!   lxml is compared on subtrees only for exclusive C14N, which neither affects;
//! - `xmllint --c14n`, `--c14n11`, `--exc-c14n` (whole documents, with comments).
//!
//! Skipped, loudly, only when Python has no lxml (`.ci/run` installs it: `pip install lxml`).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine;
use qoltanba::xml::c14n::{canonicalize, Method};
use qoltanba::xml::{Document, Limits, NodeId};
use serde_json::{json, Value};

const PEER: &str = r#"
import base64, ctypes, ctypes.util, json, subprocess, sys
from lxml import etree

lib = ctypes.CDLL(ctypes.util.find_library("xml2") or "libxml2.so.2")
lib.xmlReadMemory.restype = ctypes.c_void_p
lib.xmlReadMemory.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
lib.xmlXPathNewContext.restype = ctypes.c_void_p
lib.xmlXPathNewContext.argtypes = [ctypes.c_void_p]
lib.xmlXPathEvalExpression.restype = ctypes.c_void_p
lib.xmlXPathEvalExpression.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
lib.xmlC14NDocDumpMemory.restype = ctypes.c_int
lib.xmlC14NDocDumpMemory.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int,
    ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p)]

class XPathObject(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("nodesetval", ctypes.c_void_p)]

WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
IDS = ("Id", "ID", "id", "{http://www.w3.org/XML/1998/namespace}id", "{%s}Id" % WSU)

def native(data, mode, comments, prefixes, ident):
    doc = lib.xmlReadMemory(data, len(data), None, None, 0)
    if not doc:
        return None
    nodes = None
    if ident is not None:
        q = ("(//. | //@* | //namespace::*)[ancestor-or-self::*[@Id='{0}' or @ID='{0}' or @id='{0}'"
             " or @xml:id='{0}' or @*[local-name()='Id' and namespace-uri()='{1}']='{0}']]")
        obj = lib.xmlXPathEvalExpression(q.format(ident, WSU).encode(), lib.xmlXPathNewContext(doc))
        nodes = ctypes.cast(obj, ctypes.POINTER(XPathObject)).contents.nodesetval
    arr = None
    if prefixes:
        arr = (ctypes.c_char_p * (len(prefixes) + 1))(*[p.encode() for p in prefixes], None)
    out = ctypes.c_void_p()
    mode = {"1.0": 0, "exc": 1, "1.1": 2}[mode]
    n = lib.xmlC14NDocDumpMemory(doc, nodes, mode, arr, int(comments), ctypes.byref(out))
    return None if n < 0 else ctypes.string_at(out, n)

def with_lxml(data, mode, comments, prefixes, ident):
    if mode == "1.1":
        return None
    tree = etree.fromstring(data).getroottree()
    target = tree
    if ident is not None:
        target = next(e for e in tree.iter(etree.Element)
                      if any(k in IDS and v == ident for k, v in e.attrib.items()))
    return etree.tostring(target, method="c14n", exclusive=(mode == "exc"),
                          with_comments=comments, inclusive_ns_prefixes=prefixes or None)

def with_xmllint(path, mode, comments, prefixes, ident):
    if ident is not None or not comments or prefixes:
        return None
    flag = {"1.0": "--c14n", "1.1": "--c14n11", "exc": "--exc-c14n"}[mode]
    r = subprocess.run(["xmllint", flag, path], capture_output=True)
    if r.returncode != 0:
        raise SystemExit("xmllint failed on %s: %s" % (path, r.stderr))
    return r.stdout

def b64(x):
    return None if x is None else base64.b64encode(x).decode()

for line in sys.stdin:
    case = json.loads(line)
    data = open(case["path"], "rb").read()
    args = (case["mode"], case["comments"], case["prefixes"], case["id"])
    print(json.dumps({
        "libxml2": b64(native(data, *args)),
        "lxml": b64(with_lxml(data, *args)),
        "xmllint": b64(with_xmllint(case["path"], *args)),
    }), flush=True)
"#;

fn corpus() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/xml/c14n");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures/xml/c14n")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    files
}

/// Every element, in document order, without recursion.
fn elements(doc: &Document) -> Vec<NodeId> {
    let mut all = Vec::new();
    let mut stack = vec![doc.root()];
    while let Some(n) = stack.pop() {
        all.push(n);
        let children: Vec<NodeId> = doc.child_elements(n).collect();
        stack.extend(children.into_iter().rev());
    }
    all
}

/// The PrefixList of the exclusive cases: the first two prefixes declared.
fn prefix_list(doc: &Document) -> Vec<String> {
    let mut list = Vec::new();
    for n in elements(doc) {
        for d in &doc.element(n).expect("element").declarations {
            if let Some(p) = &d.prefix {
                if p != "xml" && !list.contains(p) && list.len() < 2 {
                    list.push(p.clone());
                }
            }
        }
    }
    list
}

struct Case {
    label: String,
    ours: Vec<u8>,
    /// Whether lxml's element form is comparable (see the module's comment).
    lxml_comparable: bool,
    request: Value,
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let files = corpus();
    assert!(
        files.len() >= 15,
        "the corpus has {} documents",
        files.len()
    );
    for path in files {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        let input = std::fs::read(&path).expect("read fixture");
        let doc = Document::parse(&input, &Limits::default())
            .unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
        let prefixes = prefix_list(&doc);
        let with_default: Vec<String> = std::iter::once("#default".to_string())
            .chain(prefixes.iter().cloned())
            .collect();
        let none = Vec::new();
        let methods = [
            ("c14n 1.0", "1.0", false, &none),
            ("c14n 1.0 with comments", "1.0", true, &none),
            ("c14n 1.1", "1.1", false, &none),
            ("c14n 1.1 with comments", "1.1", true, &none),
            ("exc-c14n", "exc", false, &none),
            ("exc-c14n with comments", "exc", true, &none),
            ("exc-c14n with a PrefixList", "exc", false, &prefixes),
            ("exc-c14n with a PrefixList", "exc", false, &with_default),
        ];
        let mut apexes: Vec<Option<(String, NodeId)>> = vec![None];
        apexes.extend(
            doc.ids()
                .into_iter()
                .map(|(value, id)| Some((value.to_string(), id))),
        );
        for apex in &apexes {
            for (label, mode, comments, list) in methods {
                let list = list.clone();
                let method = match mode {
                    "1.0" => Method::Inclusive10 { comments },
                    "1.1" => Method::Inclusive11 { comments },
                    _ => Method::Exclusive {
                        comments,
                        inclusive_prefixes: list.clone(),
                    },
                };
                let mut ours = Vec::new();
                canonicalize(&doc, apex.as_ref().map(|a| a.1), &[], &method, &mut ours);
                let where_ = match apex {
                    None => "whole document".to_string(),
                    Some((value, _)) => format!("subtree of Id {value:?}"),
                };
                let lxml_comparable =
                    (apex.is_none() || mode == "exc") && !list.iter().any(|p| p == "#default");
                let list_label = if label.contains("PrefixList") {
                    format!(" {list:?}")
                } else {
                    String::new()
                };
                cases.push(Case {
                    label: format!("{name}, {where_}, {label}{list_label}"),
                    ours,
                    lxml_comparable,
                    request: json!({
                        "path": path.to_string_lossy(),
                        "mode": mode,
                        "comments": comments,
                        "prefixes": list,
                        "id": apex.as_ref().map(|a| a.0.clone()),
                    }),
                });
            }
        }
    }
    cases
}

fn peer_answers(cases: &[Case]) -> Vec<Value> {
    let mut child = Command::new("python3")
        .args(["-c", PEER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let requests: Vec<String> = cases.iter().map(|c| c.request.to_string()).collect();
    // Written from a thread: the peer answers while it reads, and pipes are finite.
    let writer = std::thread::spawn(move || {
        for r in requests {
            writeln!(stdin, "{r}").expect("write a case to the peer");
        }
    });
    let answers: Vec<Value> = BufReader::new(child.stdout.take().expect("stdout"))
        .lines()
        .map(|l| serde_json::from_str(&l.expect("line")).expect("JSON answer"))
        .collect();
    writer.join().expect("writer");
    let status = child.wait().expect("wait for the peer");
    assert!(
        status.success() && answers.len() == cases.len(),
        "the libxml2/lxml/xmllint peer failed ({status}) after {} of {} cases",
        answers.len(),
        cases.len()
    );
    answers
}

fn show(bytes: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(bytes))
}

#[test]
fn canonical_forms_match_libxml2_lxml_and_xmllint() {
    let lxml = Command::new("python3")
        .args(["-c", "import lxml"])
        .status()
        .is_ok_and(|s| s.success());
    if !lxml {
        eprintln!(
            "\n!!!!!!!! SKIPPED: python3 cannot import lxml, so canonical XML is NOT compared \
             with libxml2 (pip install lxml; .ci/run installs it) !!!!!!!!\n"
        );
        return;
    }
    let cases = cases();
    let answers = peer_answers(&cases);
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut compared = std::collections::BTreeMap::<&str, usize>::new();
    let mut differences = Vec::new();
    let mut docs = BTreeSet::new();
    for (case, answer) in cases.iter().zip(&answers) {
        docs.insert(case.request["path"].to_string());
        for peer in ["libxml2", "lxml", "xmllint"] {
            if peer == "lxml" && !case.lxml_comparable {
                continue;
            }
            let theirs = match &answer[peer] {
                Value::String(s) => b64.decode(s).expect("base64"),
                _ if peer == "libxml2" => {
                    differences.push(format!("{}: libxml2 gave no answer", case.label));
                    continue;
                }
                _ => continue,
            };
            *compared.entry(peer).or_default() += 1;
            if theirs != case.ours {
                differences.push(format!(
                    "{} differs from {peer}:\n  ours:   {}\n  {peer}: {}",
                    case.label,
                    show(&case.ours),
                    show(&theirs)
                ));
            }
        }
    }
    eprintln!(
        "{} documents, {} cases; compared with {compared:?}",
        docs.len(),
        cases.len()
    );
    assert!(
        differences.is_empty(),
        "{} differences:\n{}",
        differences.len(),
        differences.join("\n")
    );
    assert!(compared.get("xmllint").is_some_and(|n| *n > 0));
    assert!(compared.get("lxml").is_some_and(|n| *n > 0));
}
