//! The integration tests: one binary, one module per area.

// First, so its macros (on_both_backends) reach every module after it.
#[macro_use]
mod common;

mod audit_caps;
mod audit_crash;
mod auditor;
mod cades_levels;
mod cli;
mod connections;
mod documents;
mod documents_batch;
mod documents_concurrency;
mod documents_xml;
mod evidence;
mod evidence_crash;
mod evidence_headline;
mod gost;
mod gost2004_engine;
mod gost2004_pki;
mod gost_interop;
mod gost_keystores;
mod gost_pki;
mod hostile;
mod hostile_xml;
mod http_api;
mod instances;
mod keystore;
mod layering;
mod nca_gost2004;
mod nca_profile;
mod openssl_pki;
mod packaging;
mod pdf;
mod pem_lines;
mod pki_openssl;
mod pki_rules;
mod sign;
mod signing;
mod status_watch;
mod storage;
mod tsa;
mod verify_cli;
mod verify_nca;
mod verify_online;
mod verify_openssl;
mod verify_own;
mod verify_own_xml;
mod verify_past;
mod verify_pss;
mod verify_timestamp;
mod verify_xml;
mod verify_xml_peers;
mod xml_c14n;
mod xml_sign;
mod xml_sign_peers;
