//! The documents a licensing authority signs (процесс 11): kinds, typed payloads checked before
//! signing (every problem listed), and the canonical form that is signed.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

use crate::identity::{Bin, Iin};

/// Document kinds, as the API names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    License,
    LicenseAppendix,
    LicenseReissue,
    LicenseDuplicate,
    Notification,
    Refusal,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::License,
        Kind::LicenseAppendix,
        Kind::LicenseReissue,
        Kind::LicenseDuplicate,
        Kind::Notification,
        Kind::Refusal,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::License => "license",
            Kind::LicenseAppendix => "license_appendix",
            Kind::LicenseReissue => "license_reissue",
            Kind::LicenseDuplicate => "license_duplicate",
            Kind::Notification => "notification",
            Kind::Refusal => "refusal",
        }
    }

    pub fn parse(name: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown document kind {name:?}; use one of {}",
                    names.join(", ")
                )
            })
    }

    /// Titles in Russian and Kazakh, for pages and PDFs.
    pub fn title(self) -> (&'static str, &'static str) {
        match self {
            Kind::License => ("ЛИЦЕНЗИЯ", "ЛИЦЕНЗИЯ"),
            Kind::LicenseAppendix => ("ПРИЛОЖЕНИЕ К ЛИЦЕНЗИИ", "ЛИЦЕНЗИЯҒА ҚОСЫМША"),
            Kind::LicenseReissue => ("ПЕРЕОФОРМЛЕННАЯ ЛИЦЕНЗИЯ", "ҚАЙТА РЕСІМДЕЛГЕН ЛИЦЕНЗИЯ"),
            Kind::LicenseDuplicate => ("ДУБЛИКАТ ЛИЦЕНЗИИ", "ЛИЦЕНЗИЯНЫҢ ТЕЛНҰСҚАСЫ"),
            Kind::Notification => ("УВЕДОМЛЕНИЕ", "ХАБАРЛАМА"),
            Kind::Refusal => ("МОТИВИРОВАННЫЙ ОТКАЗ", "ДӘЛЕЛДІ БАС ТАРТУ"),
        }
    }
}

/// How a document is signed: CAdES-BES CMS over its canonical JSON (the default), or its XML
/// form ([`super::document_xml`]) with an enveloped XMLDSig signature, as Kalkan signs XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Cms,
    Xml,
}

impl Format {
    /// The name the API, the CLI and the registry's `format` column use.
    pub fn name(self) -> &'static str {
        match self {
            Format::Cms => "cms",
            Format::Xml => "xml",
        }
    }

    pub fn parse(name: &str) -> Result<Format, String> {
        match name {
            "cms" => Ok(Format::Cms),
            "xml" => Ok(Format::Xml),
            other => Err(format!("unknown document format {other:?}; use cms or xml")),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Party {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bin: Option<String>,
}

/// The payload of every kind; which fields are required depends on the kind.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Payload {
    #[serde(default)]
    pub authority: Party,
    #[serde(default)]
    pub recipient: Party,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype: Option<String>,
    /// YYYY-MM-DD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// The application (request) this answers, and its verification result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_id: Option<String>,
    /// The registration number of the license this appendix, re-issue or duplicate belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// Anything else: refused, so a misspelt field is not silently dropped.
    #[serde(flatten, skip_serializing)]
    pub unknown: BTreeMap<String, Value>,
}

const MAX_TEXT: usize = 4000;

fn date(value: &str) -> bool {
    crate::time::parse_rfc3339(value).is_ok() && value.len() == 10
}

impl Payload {
    /// Every problem with this payload for this kind; empty when it may be signed.
    pub fn problems(&self, kind: Kind) -> Vec<String> {
        let mut p = Vec::new();
        for key in self.unknown.keys() {
            p.push(format!("unknown field {key:?}"));
        }
        let text = |p: &mut Vec<String>, field: &str, value: &Option<String>, required: bool| {
            match value {
                None if required => p.push(format!("{field} is required for a {}", kind.name())),
                Some(v) if v.trim().is_empty() => p.push(format!("{field} is empty")),
                Some(v) if v.chars().count() > MAX_TEXT => {
                    p.push(format!("{field} is longer than {MAX_TEXT} characters"))
                }
                Some(v) if v.chars().any(|c| c.is_control() && c != '\n') => {
                    p.push(format!("{field} contains control characters"))
                }
                _ => {}
            }
        };
        text(&mut p, "authority.name", &self.authority.name, true);
        match self.authority.bin.as_deref().map(Bin::parse_strict) {
            None => p.push("authority.bin is required".into()),
            Some(Err(e)) => p.push(format!("authority.bin: {e}")),
            Some(Ok(_)) => {}
        }
        if self.authority.iin.is_some() {
            p.push("authority.iin: the authority is identified by its BIN".into());
        }
        text(&mut p, "recipient.name", &self.recipient.name, true);
        match (&self.recipient.iin, &self.recipient.bin) {
            (None, None) => p.push("recipient.iin or recipient.bin is required".into()),
            (Some(_), Some(_)) => p.push("give recipient.iin or recipient.bin, not both".into()),
            (Some(iin), None) => {
                if let Err(e) = Iin::parse_strict(iin) {
                    p.push(format!("recipient.iin: {e}"));
                }
            }
            (None, Some(bin)) => {
                if let Err(e) = Bin::parse_strict(bin) {
                    p.push(format!("recipient.bin: {e}"));
                }
            }
        }
        let licenseish = matches!(
            kind,
            Kind::License | Kind::LicenseAppendix | Kind::LicenseReissue | Kind::LicenseDuplicate
        );
        text(&mut p, "activity", &self.activity, licenseish);
        text(
            &mut p,
            "subtype",
            &self.subtype,
            kind == Kind::LicenseAppendix,
        );
        text(
            &mut p,
            "request_id",
            &self.request_id,
            matches!(kind, Kind::License | Kind::Refusal | Kind::LicenseReissue),
        );
        text(&mut p, "verification_id", &self.verification_id, false);
        text(
            &mut p,
            "license_number",
            &self.license_number,
            matches!(
                kind,
                Kind::LicenseAppendix | Kind::LicenseReissue | Kind::LicenseDuplicate
            ),
        );
        text(&mut p, "text", &self.text, kind == Kind::Notification);
        for (field, value) in [
            ("issued_on", &self.issued_on),
            ("valid_until", &self.valid_until),
        ] {
            match value {
                Some(v) if !date(v) => p.push(format!("{field} {v:?} is not a date YYYY-MM-DD")),
                None if field == "issued_on" && licenseish => {
                    p.push(format!("issued_on is required for a {}", kind.name()))
                }
                _ => {}
            }
        }
        if let (Some(from), Some(to)) = (&self.issued_on, &self.valid_until) {
            if date(from) && date(to) && to < from {
                p.push("valid_until is before issued_on".into());
            }
        }
        if kind == Kind::Refusal && self.reasons.is_empty() {
            p.push("a refusal lists its reasons (reasons: [..])".into());
        }
        if kind != Kind::Refusal && !self.reasons.is_empty() {
            p.push(format!(
                "reasons belong to a refusal, not a {}",
                kind.name()
            ));
        }
        for (i, reason) in self.reasons.iter().enumerate() {
            if reason.trim().is_empty() || reason.chars().count() > MAX_TEXT {
                p.push(format!("reasons[{i}] is empty or too long"));
            }
        }
        p
    }
}

/// The signed form of a document: what the registry stores and anyone can rebuild.
pub fn document_json(
    kind: Kind,
    number: &str,
    issued_at: &str,
    payload: &Payload,
    supersedes: Option<&str>,
) -> Value {
    let mut doc = Map::new();
    doc.insert("kind".into(), json!(kind.name()));
    doc.insert("number".into(), json!(number));
    doc.insert("issued_at".into(), json!(issued_at));
    doc.insert(
        "payload".into(),
        serde_json::to_value(payload).unwrap_or(Value::Null),
    );
    if let Some(s) = supersedes {
        doc.insert("supersedes".into(), json!(s));
    }
    Value::Object(doc)
}
