//! What one leaf of the log says. Text lines, so that an auditor reads an entry bundle with any
//! tool; one spelling per entry (fixed field order, lower-case hex, RFC 3339 UTC seconds), so
//! that the leaf hash of a record can be recomputed from the record alone.
//!
//! ```text
//! qoltanba-log-entry/1
//! document KZ-123456789012-2026-000001
//! id 5f1c…
//! sha256 <of the signed content (the canonical JSON), hex>
//! signed-sha256 <of the signature file as issued (CMS or XML), hex>
//! time 2026-11-30T12:00:00Z
//! ```

use super::TlogError;

const VERSION: &str = "qoltanba-log-entry/1";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A document the service signed (процесс 11), under its registration number.
    Document {
        number: String,
        id: String,
        sha256: String,
        signed_sha256: String,
        time: i64,
    },
    /// A certificate the test PKI issued: its serial (hex) and the SHA-256 of its DER.
    Certificate {
        serial: String,
        sha256: String,
        time: i64,
    },
    /// A certificate's status changed: `revoked` or `hold` (with the CRL reason), or `good`
    /// again (a hold released).
    Status {
        serial: String,
        status: String,
        reason: Option<String>,
        time: i64,
    },
}

impl Entry {
    /// The entry's bytes: what the leaf hash covers.
    pub fn encode(&self) -> Vec<u8> {
        let time = |t: i64| crate::time::rfc3339(t);
        let text = match self {
            Entry::Document {
                number,
                id,
                sha256,
                signed_sha256,
                time: t,
            } => format!(
                "{VERSION}\ndocument {number}\nid {id}\nsha256 {sha256}\nsigned-sha256 \
                 {signed_sha256}\ntime {}\n",
                time(*t)
            ),
            Entry::Certificate {
                serial,
                sha256,
                time: t,
            } => format!(
                "{VERSION}\ncertificate {serial}\nsha256 {sha256}\ntime {}\n",
                time(*t)
            ),
            Entry::Status {
                serial,
                status,
                reason,
                time: t,
            } => {
                let reason = reason
                    .as_deref()
                    .map(|r| format!("reason {r}\n"))
                    .unwrap_or_default();
                format!(
                    "{VERSION}\nstatus {serial}\nis {status}\n{reason}time {}\n",
                    time(*t)
                )
            }
        };
        text.into_bytes()
    }

    /// The kind, as the first word of the entry's second line.
    pub fn kind(&self) -> &'static str {
        match self {
            Entry::Document { .. } => "document",
            Entry::Certificate { .. } => "certificate",
            Entry::Status { .. } => "status",
        }
    }

    /// What the entry is about: a document's number or a certificate's serial.
    pub fn reference(&self) -> &str {
        match self {
            Entry::Document { number, .. } => number,
            Entry::Certificate { serial, .. } | Entry::Status { serial, .. } => serial,
        }
    }

    /// Reads an entry written by [`Entry::encode`], and only such: it must encode back to the
    /// same bytes.
    pub fn parse(bytes: &[u8]) -> Result<Entry, TlogError> {
        let bad = |why: &str| TlogError::BadEntry(why.to_string());
        let text = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8"))?;
        let mut lines = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("no final newline"))?
            .split('\n');
        if lines.next() != Some(VERSION) {
            return Err(bad("not a qoltanba log entry (version 1)"));
        }
        let (kind, reference) = lines
            .next()
            .and_then(|l| l.split_once(' '))
            .ok_or_else(|| bad("no kind line"))?;
        // The one spelling has its fields in a fixed order (any other order would not encode
        // back to these bytes): read them in that order, no map of fields (an auditor reads a
        // million entries; bench/README.md).
        let mut lines = lines.peekable();
        let mut field = |name: &str| {
            lines
                .next_if(|line| line.split_once(' ').is_some_and(|(n, _)| n == name))
                .and_then(|line| line.split_once(' '))
                .map(|(_, value)| value.to_string())
        };
        let mut required = |name: &str| field(name).ok_or_else(|| bad(&format!("no {name}")));
        let entry = match kind {
            "document" => {
                let id = required("id")?;
                let sha256 = required("sha256")?;
                let signed_sha256 = required("signed-sha256")?;
                let time = read_time(&required("time")?)?;
                Entry::Document {
                    number: reference.to_string(),
                    id,
                    sha256,
                    signed_sha256,
                    time,
                }
            }
            "certificate" => {
                let sha256 = required("sha256")?;
                let time = read_time(&required("time")?)?;
                Entry::Certificate {
                    serial: reference.to_string(),
                    sha256,
                    time,
                }
            }
            "status" => {
                let status = required("is")?;
                let reason = field("reason");
                let time = read_time(&field("time").ok_or_else(|| bad("no time"))?)?;
                Entry::Status {
                    serial: reference.to_string(),
                    status,
                    reason,
                    time,
                }
            }
            other => return Err(bad(&format!("unknown kind {other:?}"))),
        };
        if lines.next().is_some() {
            return Err(bad("a line after the time"));
        }
        if entry.encode() != bytes {
            return Err(bad("not in the one spelling this version writes"));
        }
        Ok(entry)
    }
}

fn read_time(text: &str) -> Result<i64, TlogError> {
    crate::time::parse_rfc3339(text).map_err(TlogError::BadEntry)
}

#[cfg(test)]
mod tests {
    use super::Entry;

    /// Entries read back exactly as written, of every kind, and nothing but that spelling reads.
    #[test]
    fn entries_read_back_in_their_one_spelling_only() {
        let entries = [
            Entry::Document {
                number: "950341000052-2026-000001".into(),
                id: "5f1c".into(),
                sha256: "ab".into(),
                signed_sha256: "cd".into(),
                time: 1_764_504_000,
            },
            Entry::Certificate {
                serial: "01ff".into(),
                sha256: "ef".into(),
                time: 1_764_504_000,
            },
            Entry::Status {
                serial: "01ff".into(),
                status: "revoked".into(),
                reason: Some("keyCompromise".into()),
                time: 1_764_504_001,
            },
            Entry::Status {
                serial: "01ff".into(),
                status: "good".into(),
                reason: None,
                time: 1_764_504_002,
            },
        ];
        for entry in &entries {
            assert_eq!(Entry::parse(&entry.encode()).as_ref(), Ok(entry));
        }
        let document = String::from_utf8(entries[0].encode()).unwrap_or_default();
        let refused = [
            // Fields swapped, a field twice, a line too many, a field missing, another time form.
            document.replace(
                "sha256 ab\nsigned-sha256 cd\n",
                "signed-sha256 cd\nsha256 ab\n",
            ),
            document.replace("id 5f1c\n", "id 5f1c\nid 5f1c\n"),
            format!("{document}extra line\n"),
            document.replace("id 5f1c\n", ""),
            document.replace("2025-11-30T12:00:00Z", "2025-11-30T12:00:00.000Z"),
            document.trim_end().to_string(),
        ];
        assert!(document.contains("time 2025-11-30T12:00:00Z"), "{document}");
        for text in refused {
            assert!(Entry::parse(text.as_bytes()).is_err(), "{text:?}");
        }
    }
}
