//! The integration tests: one binary, one module per area.

mod common;
mod keystore;
mod nca_profile;
mod pki_openssl;
mod http_api;
mod storage;
mod cli;
