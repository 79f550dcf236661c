//! The integration tests: one binary, one module per area.

mod auditor;
mod cli;
mod common;
mod documents;
mod documents_concurrency;
mod gost;
mod gost_interop;
mod gost_keystores;
mod gost_pki;
mod hostile;
mod http_api;
mod instances;
mod keystore;
mod nca_profile;
mod openssl_pki;
mod pdf;
mod pki_openssl;
mod pki_rules;
mod sign;
mod signing;
mod storage;
mod verify_cli;
mod verify_nca;
mod verify_online;
mod verify_openssl;
mod verify_own;
