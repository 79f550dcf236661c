//! The steps of условие 3, in order, and the time each signer is judged at.

use serde::Serialize;

/// One step of the pipeline. The JSON keeps the ids of the first report format ("format",
/// "signature", …); the order here is the order of the report's checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Format,
    Signature,
    Chain,
    Validity,
    Revocation,
    KeyUsage,
    Identity,
}

impl Step {
    /// Every step, in order. Every report lists exactly these.
    pub const ALL: [Step; 7] = [
        Step::Format,
        Step::Signature,
        Step::Chain,
        Step::Validity,
        Step::Revocation,
        Step::KeyUsage,
        Step::Identity,
    ];

    /// The id the report's JSON carries.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Format => "format",
            Step::Signature => "signature",
            Step::Chain => "chain",
            Step::Validity => "validity",
            Step::Revocation => "revocation",
            Step::KeyUsage => "key_usage",
            Step::Identity => "identity",
        }
    }

    /// The steps that follow this one.
    pub fn after(self) -> impl Iterator<Item = Step> {
        Step::ALL
            .into_iter()
            .skip_while(move |s| *s != self)
            .skip(1)
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Callers (and tests) name steps by their JSON id.
impl PartialEq<&str> for Step {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for Step {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

/// Where a signer's validation time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSource {
    /// The request's `at`, or the current time when the request names none.
    Request,
}

/// The time a signer is judged at: its certificates' validity, revocation status and the path
/// to a trust anchor are all evaluated at this instant. Per signer, because a proof of
/// existence (a time-stamp) proves a different time for each signer; until one is read, every
/// signer is judged at the request's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidationTime {
    /// Unix seconds.
    pub at: i64,
    pub source: TimeSource,
}

impl ValidationTime {
    pub fn requested(at: i64) -> ValidationTime {
        ValidationTime {
            at,
            source: TimeSource::Request,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_id_is_the_serialised_step_and_after_follows_the_order() {
        for step in Step::ALL {
            let json = serde_json::to_string(&step).expect("json");
            assert_eq!(json, format!("\"{}\"", step.as_str()));
        }
        let after: Vec<Step> = Step::Signature.after().collect();
        assert_eq!(after, &Step::ALL[2..]);
        assert_eq!(Step::Identity.after().count(), 0);
    }
}
