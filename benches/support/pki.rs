//! A fresh test PKI for the benchmarks that sign or verify with the service's own keys: the
//! built-in hierarchy on SQLite in a temporary directory. Included with
//! `#[path = "support/pki.rs"] mod fresh_pki;` by the benchmarks that need it (not from
//! `support/mod.rs`, which every benchmark compiles).

use std::path::Path;

use qoltanba::pki::{Declarations, Pki};
use qoltanba::store::Store;

/// The PKI and its database URL (`sqlite://…/bench.db`) under `dir`.
pub(crate) async fn sqlite_pki(dir: &Path) -> (Pki, String) {
    let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    let store = Store::connect(&url).await.expect("store");
    let (pki, _) = Pki::init(
        store,
        Declarations::load(None).expect("decl"),
        "http://127.0.0.1:9",
        b"bench",
    )
    .await
    .expect("pki");
    (pki, url)
}
