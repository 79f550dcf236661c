//! The append's remembered right edge against stale guesses, on both engines.

use super::*;

fn entry(n: u64) -> Entry {
    Entry::Certificate {
        serial: format!("{n:04x}"),
        sha256: hex::encode(crate::crypto::sha256(&n.to_be_bytes())),
        time: 1_700_000_000,
    }
}

async fn append_committed(store: &Store, from: u64, count: u64) -> u64 {
    let entries: Vec<Entry> = (from..from + count).map(entry).collect();
    let mut tx = store.pool().begin().await.expect("begin");
    let first = append(&mut tx, &entries, 0).await.expect("append");
    tx.commit().await.expect("commit");
    first
}

fn set_edge(edge: Option<RightEdge>) {
    *RIGHT_EDGE.lock().unwrap_or_else(|p| p.into_inner()) = edge;
}

/// The remembered right edge is only a guess: after a rolled-back append (size ahead), with
/// the right size but hashes of leaves never stored (the rolled-back ones), far off, or none,
/// every leaf lands at the next index and the stored hashes stay the tree of the entries
/// (checked against a tree built from the entries alone).
#[tokio::test]
async fn a_stale_right_edge_never_stores_a_wrong_hash_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("log.db").display());
    stale_right_edges(&url).await;
}

/// The same on PostgreSQL (its one-statement append takes the lock in a function).
#[tokio::test]
async fn a_stale_right_edge_never_stores_a_wrong_hash_on_postgresql() {
    if let Some(url) = crate::store::fresh_postgres_database("edge").await {
        stale_right_edges(&url).await;
    }
}

/// The remembered edge is one per process: the two cases take turns with it.
static EDGE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn stale_right_edges(url: &str) {
    let _turn = EDGE.lock().await;
    let store = Store::connect(url).await.expect("store");
    let base = store.log_size().await.expect("size");
    assert_eq!(append_committed(&store, 0, 7).await, base);
    // Appended and rolled back: the edge is 5 leaves ahead, with their hashes.
    let mut tx = store.pool().begin().await.expect("begin");
    let ghosts: Vec<Entry> = (900..905).map(entry).collect();
    append(&mut tx, &ghosts, 0).await.expect("append");
    tx.rollback().await.expect("rollback");
    let ghost_edge = remembered_edge();
    assert_eq!(append_committed(&store, 7, 5).await, base + 7);
    // The log has the ghosts' size now, not their hashes: leaves 12..16 close a subtree
    // with the hash of leaves 8..12, which the ghost edge has wrong.
    set_edge(ghost_edge);
    assert_eq!(append_committed(&store, 12, 4).await, base + 12);
    // Far off, none, and one short right at a power of two.
    let far = RightEdge {
        size: 1_000_000,
        hashes: HashMap::new(),
    };
    for (edge, from, count) in [(Some(far), 16, 3), (None, 19, 13)] {
        set_edge(edge);
        assert_eq!(append_committed(&store, from, count).await, base + from);
    }
    let mut short = remembered_edge().expect("an edge");
    short.size -= 1;
    set_edge(Some(short));
    assert_eq!(append_committed(&store, 32, 1).await, base + 32);
    let size = store.log_size().await.expect("size");
    assert_eq!(size, base + 33);
    let entries = store.log_entries(0..size).await.expect("entries");
    let leaves: Vec<Hash> = entries.iter().map(|(_, b)| tlog::leaf_hash(b)).collect();
    for n in 1..=size {
        let recipe = tlog::Recipe::for_ranges(std::slice::from_ref(&(0..n)));
        let stored = store.log_hashes(recipe.indexes()).await.expect("hashes");
        let root = recipe.hashes(&stored).expect("fold")[0];
        assert_eq!(root, tlog::root_of(&leaves[..n as usize]), "tree of {n}");
    }
}
