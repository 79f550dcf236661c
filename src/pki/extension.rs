//! The one place the registry's evidence work reaches CAdES extension (`sign::levels`,
//! `Pki::extend`, `Pki::renew_archive`, built on the signing branch of issue 15). Until that
//! lands here these stand in with the same signatures: every signature reads as level B and
//! extension fails, so documents stay at B and the job retries later — nothing is lost.

use super::{Pki, PkiError};

/// CAdES baseline levels (ETSI EN 319 122-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    B,
    T,
    Lt,
    Lta,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::B => "B",
            Level::T => "T",
            Level::Lt => "LT",
            Level::Lta => "LTA",
        }
    }
}

pub(super) fn level_of(_cms: &[u8]) -> Result<Level, PkiError> {
    Ok(Level::B)
}

fn unavailable() -> PkiError {
    PkiError::Config("CAdES extension is not available in this build".into())
}

impl Pki {
    pub(super) async fn extend_to(
        &self,
        _signed: &[u8],
        _content: Option<&[u8]>,
        _target: Level,
        _now: i64,
    ) -> Result<Vec<u8>, PkiError> {
        Err(unavailable())
    }

    pub(super) async fn add_archive_time_stamp(
        &self,
        _signed: &[u8],
        _content: Option<&[u8]>,
        _now: i64,
    ) -> Result<Vec<u8>, PkiError> {
        Err(unavailable())
    }
}

/// The level of any signature an auditor brings: B for anything that carries no time-stamp
/// or does not read as CMS (an XML signature has no XAdES levels here yet).
pub fn signature_level(signed: &[u8]) -> Level {
    level_of(signed).unwrap_or(Level::B)
}
