//! Step 4, validity: every certificate in the path is valid at the validation time.

use std::sync::Arc;

use super::report::{Check, Step, SubIndication};
use super::step::ValidationTime;
use crate::time::rfc3339;
use crate::x509::Cert;

pub(super) fn check(path: &[Arc<Cert>], time: ValidationTime) -> Check {
    let at = time.at;
    for cert in path {
        if at < cert.not_before() {
            return Check::failed(
                Step::Validity,
                SubIndication::NotYetValid,
                "NOT_YET_VALID",
                format!(
                    "{} is valid only from {} (validation time {})",
                    cert.subject(),
                    rfc3339(cert.not_before()),
                    rfc3339(at)
                ),
            );
        }
        if at > cert.not_after() {
            return Check::failed(
                Step::Validity,
                SubIndication::Expired,
                "EXPIRED",
                format!(
                    "{} expired at {} (validation time {})",
                    cert.subject(),
                    rfc3339(cert.not_after()),
                    rfc3339(at)
                ),
            );
        }
    }
    Check::passed(
        Step::Validity,
        format!("every certificate in the path is valid at {}", rfc3339(at)),
    )
}
