//! RFC 5280 revocation reasons, by the names people and OpenSSL use.

use std::fmt;
use std::str::FromStr;
use x509_cert::ext::pkix::crl::CrlReason;

const NAMES: &[(&str, CrlReason)] = &[
    ("unspecified", CrlReason::Unspecified),
    ("keyCompromise", CrlReason::KeyCompromise),
    ("cACompromise", CrlReason::CaCompromise),
    ("affiliationChanged", CrlReason::AffiliationChanged),
    ("superseded", CrlReason::Superseded),
    ("cessationOfOperation", CrlReason::CessationOfOperation),
    ("certificateHold", CrlReason::CertificateHold),
    ("removeFromCRL", CrlReason::RemoveFromCRL),
    ("privilegeWithdrawn", CrlReason::PrivilegeWithdrawn),
    ("aACompromise", CrlReason::AaCompromise),
];

/// A reason a certificate is revoked. `removeFromCRL` only appears in delta CRLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevocationReason(pub CrlReason);

impl RevocationReason {
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(_, r)| *r == self.0)
            .map(|(n, _)| *n)
            .unwrap_or("unspecified")
    }

    pub fn is_hold(self) -> bool {
        self.0 == CrlReason::CertificateHold
    }
}

/// A revocation reason nobody defined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UnknownReason(String);

impl RevocationReason {
    /// The reason with this CRLReason code (RFC 5280 §5.3.1); `None` for 7 and codes above 10.
    pub fn from_code(code: u8) -> Option<RevocationReason> {
        NAMES
            .iter()
            .find(|(_, r)| *r as u8 == code)
            .map(|(_, r)| RevocationReason(*r))
    }

    /// The CRLReason code.
    pub fn code(self) -> u8 {
        self.0 as u8
    }
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RevocationReason {
    type Err = UnknownReason;
    /// Accepts the RFC names in any case, with or without `_`/`-` (`key_compromise`,
    /// `KeyCompromise`), and the numeric codes.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fold = |x: &str| {
            x.chars()
                .filter(|c| *c != '_' && *c != '-')
                .collect::<String>()
                .to_ascii_lowercase()
        };
        let wanted = fold(s.trim());
        NAMES
            .iter()
            .find(|(name, code)| fold(name) == wanted || (*code as u8).to_string() == wanted)
            .map(|(_, code)| RevocationReason(*code))
            .ok_or_else(|| {
                // removeFromCRL only appears in delta CRLs; nobody revokes with it.
                let names: Vec<&str> = NAMES
                    .iter()
                    .map(|(n, _)| *n)
                    .filter(|n| *n != "removeFromCRL")
                    .collect();
                UnknownReason(format!(
                    "unknown revocation reason {:?}; use one of {}",
                    super::name::truncate(s, 40),
                    names.join(", ")
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_parse_in_every_spelling_people_use() {
        for spelling in ["keyCompromise", "key_compromise", "KEY-COMPROMISE", "1"] {
            let r: RevocationReason = spelling.parse().expect(spelling);
            assert_eq!(r.name(), "keyCompromise");
        }
        assert!("certificateHold"
            .parse::<RevocationReason>()
            .expect("hold")
            .is_hold());
        assert!("stolen".parse::<RevocationReason>().is_err());
        assert!(
            "7".parse::<RevocationReason>().is_err(),
            "7 is not a CRLReason"
        );
    }
}
