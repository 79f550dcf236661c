//! The steps of условие 3, in order, and the time each signer is judged at.

use serde::Serialize;

/// One step of the pipeline. The JSON keeps the ids of the first report format ("format",
/// "signature", …); the order here is the order of the report's checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Format,
    Signature,
    /// The signature time-stamps (RFC 3161 tokens in the SignerInfo's unsigned attributes):
    /// reported, never a reason for the verdict (see [`Step::decides_verdict`]).
    Timestamp,
    Chain,
    Validity,
    Revocation,
    KeyUsage,
    Identity,
}

impl Step {
    /// Every step, in order. Every report lists exactly these.
    pub const ALL: [Step; 8] = [
        Step::Format,
        Step::Signature,
        Step::Timestamp,
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
            Step::Timestamp => "timestamp",
            Step::Chain => "chain",
            Step::Validity => "validity",
            Step::Revocation => "revocation",
            Step::KeyUsage => "key_usage",
            Step::Identity => "identity",
        }
    }

    /// Does this step's outcome decide the verdict? Every step but `timestamp`: per
    /// ETSI EN 319 102-1 a time-stamp that fails only gives no proof of existence; the
    /// signature is then judged as one without it, never invalid because of it.
    pub fn decides_verdict(self) -> bool {
        self != Step::Timestamp
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
    /// A time-stamp's genTime: its TSA's certificates are judged at the time they vouched for.
    TimeStamp,
    /// The signer's proof of existence (the genTime of a valid signature time-stamp) earlier
    /// than the request's time: past signature validation (EN 319 102-1 §5.6.2.4). Validity and
    /// revocation are judged at it, with revocation evidence issued after it.
    ProofOfExistence,
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

    pub fn proven(at: i64) -> ValidationTime {
        ValidationTime {
            at,
            source: TimeSource::ProofOfExistence,
        }
    }

    pub fn stamped(at: i64) -> ValidationTime {
        ValidationTime {
            at,
            source: TimeSource::TimeStamp,
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
        assert_eq!(Step::ALL[2], Step::Timestamp);
        assert!(Step::ALL
            .iter()
            .all(|s| s.decides_verdict() == (*s != Step::Timestamp)));
        assert_eq!(Step::Identity.after().count(), 0);
    }
}
