//! The registry's evidence work meets CAdES extension here: signature levels as
//! `sign::levels` reads them, in the PKI room's error.

pub use crate::sign::levels::Level;

use super::PkiError;

/// The CAdES baseline level of a CMS signature (DER).
pub(super) fn level_of(cms: &[u8]) -> Result<Level, PkiError> {
    crate::sign::levels::level_of(cms).map_err(|e| PkiError::invalid(e.to_string()))
}

/// The level of any signature an auditor brings: B for anything that carries no time-stamp
/// or does not read as CMS (an XML signature has no XAdES levels here yet).
pub fn signature_level(signed: &[u8]) -> Level {
    level_of(signed).unwrap_or(Level::B)
}
