//! Step 4, validity: every certificate in the path is valid at the validation time.

use std::sync::Arc;

use super::report::{Check, Step, SubIndication};
use super::step::{TimeSource, ValidationTime};
use crate::time::rfc3339;
use crate::x509::Cert;

pub(super) fn check(path: &[Arc<Cert>], time: ValidationTime) -> Check {
    let at = time.at;
    // Past signature validation says so: the certificates may have expired since.
    // Written only for a failure: a passing check says it its own way.
    let when = || match time.source {
        TimeSource::ProofOfExistence => {
            format!("validated at the proof of existence {}", rfc3339(at))
        }
        TimeSource::Request | TimeSource::TimeStamp => format!("validation time {}", rfc3339(at)),
    };
    for cert in path {
        if at < cert.not_before() {
            return Check::failed(
                Step::Validity,
                SubIndication::NotYetValid,
                "NOT_YET_VALID",
                format!(
                    "{} is valid only from {} ({})",
                    cert.subject(),
                    rfc3339(cert.not_before()),
                    when(),
                ),
            );
        }
        if at > cert.not_after() {
            return Check::failed(
                Step::Validity,
                SubIndication::Expired,
                "EXPIRED",
                format!(
                    "{} expired at {} ({})",
                    cert.subject(),
                    rfc3339(cert.not_after()),
                    when(),
                ),
            );
        }
    }
    let detail = match time.source {
        TimeSource::ProofOfExistence => format!(
            "every certificate in the path is valid at {0}: validated at the proof of existence {0}",
            rfc3339(at)
        ),
        TimeSource::Request | TimeSource::TimeStamp => {
            format!("every certificate in the path is valid at {}", rfc3339(at))
        }
    };
    Check::passed(Step::Validity, detail)
}
