//! OIDs qoltanba names that `const_oid::db` does not: NCA RK's arc and roles. Everything
//! standard (CMS attributes, OCSP, EKU purposes) is taken from `const_oid::db` where it is used.

use der::asn1::ObjectIdentifier;

/// NCA RK role OIDs (in the EKU) by name.
pub const NCA_ROLES: &[(ObjectIdentifier, &str)] = &[
    (
        ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.1"),
        "individual",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.2"),
        "legal_entity",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.2.1"),
        "first_head",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.2.2"),
        "signing_right",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.2.3"),
        "financial_signer",
    ),
    (ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.2.4"), "hr"),
    (
        ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.2.5"),
        "employee",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.398.3.3.4.1.2.6"),
        "information_system",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.398.5.19.1.2.2.1"),
        "treasury_client",
    ),
];

/// Kazakhstan's OID arc: unnamed roles under it are reported by number.
pub const KZ_ARC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.398");
