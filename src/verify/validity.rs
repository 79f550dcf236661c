//! Step 4, validity: every certificate in the path is valid at the validation time.

use std::sync::Arc;

use super::report::{Check, SubIndication};
use crate::time::rfc3339;
use crate::x509::Cert;

pub fn check(path: &[Arc<Cert>], at: i64) -> Check {
    for cert in path {
        if at < cert.not_before() {
            return Check::failed(
                "validity",
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
                "validity",
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
        "validity",
        format!("every certificate in the path is valid at {}", rfc3339(at)),
    )
}
