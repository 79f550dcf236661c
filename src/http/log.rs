//! The transparency log (issue 17), for auditors: the signed checkpoint, the log's verifier
//! key, C2SP tiles and entries as static-looking files, and proofs between them.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::extract::{ApiPath, ApiQuery};
use super::{ApiError, AppState};
use crate::pki::DocumentInLog;
use crate::tlog::{self, Hash, Tile, TILE_WIDTH};

fn text(body: impl Into<String>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body.into(),
    )
        .into_response()
}

fn b64(hash: &Hash) -> String {
    base64::engine::general_purpose::STANDARD.encode(hash.0)
}

/// `GET /log/checkpoint`: the newest signed checkpoint.
#[utoipa::path(
    get,
    path = "/log/checkpoint",
    operation_id = "getLogCheckpoint",
    tag = "log",
    summary = "The log's newest signed checkpoint (C2SP tlog-checkpoint)",
    description = "A C2SP signed note: the log's origin, its size, the base64 root hash, then \
        the signature line of the log's key (`GET /log/key`). Signed at most a second after \
        the log grows. Keep the checkpoints you have seen: a later one must be consistent \
        with each (`GET /v1/log/proof/consistency`).",
    responses((status = 200, description = "The signed checkpoint.", content_type = "text/plain")),
)]
pub(super) async fn checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(text(state.pki.log_checkpoint().await?.note))
}

/// `GET /log/key`: the note verifier key.
#[utoipa::path(
    get,
    path = "/log/key",
    operation_id = "getLogKey",
    tag = "log",
    summary = "The log's note verifier key",
    description = "`<origin>+<key id>+<base64 of 0x01 and the Ed25519 public key>` (C2SP \
        signed-note, as Go's sumdb/note reads it). Pin it: every checkpoint must carry its \
        signature.",
    responses((status = 200, description = "The verifier key and a newline.", content_type = "text/plain")),
)]
pub(super) async fn key(State(state): State<AppState>) -> Response {
    text(format!("{}\n", state.pki.log_signer().verifier().encode()))
}

/// `GET /log/tile/{path}`: a hash tile or an entry bundle.
#[utoipa::path(
    get,
    path = "/log/tile/{*path}",
    operation_id = "getLogTile",
    tag = "log",
    summary = "A C2SP tlog-tiles tile or entry bundle",
    description = "`/log/tile/<L>/<N>[.p/<W>]`: 32-byte hashes of tree level 8·L (C2SP \
        tlog-tiles); `/log/tile/entries/<N>[.p/<W>]`: the entries, each a big-endian 16-bit \
        length and its bytes. Served as far as the newest checkpoint reaches; full tiles never \
        change.",
    params(("path" = String, Path, description = "`<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`, N in groups of three digits (`x001/234`).")),
    responses(
        (status = 200, description = "The tile.", content_type = "application/octet-stream"),
        (status = 404, description = "`not_found`: no such tile at the newest checkpoint.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn tile(
    State(state): State<AppState>,
    ApiPath(path): ApiPath<String>,
) -> Result<Response, ApiError> {
    let tile = Tile::parse(&format!("tile/{}", path.trim_start_matches('/')))
        .map_err(|e| ApiError::not_found(e.to_string()))?;
    // Served as far as the newest signed checkpoint commits to (as `Pki::log_tile`), but each
    // tile read as one row: an auditor downloads thousands (store/log_tiles.rs says why).
    let size = state.pki.log_checkpoint().await?.size;
    if !tile.available_at(size) {
        return Err(ApiError::not_found(format!(
            "{} is not in the log yet",
            tile.path()
        )));
    }
    let store = state.pki.store();
    let bytes = match tile.level {
        Some(_) => store.log_tile_hashes(&tile.stored_indexes()).await?,
        None => tlog::bundle(&store.log_entry_bundle(tile.leaves()).await?)
            .map_err(|e| ApiError::from(crate::pki::PkiError::from(e)))?,
    };
    let cache = if tile.width == TILE_WIDTH {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /log/entries/{index}`: one entry.
#[utoipa::path(
    get,
    path = "/log/entries/{index}",
    operation_id = "getLogEntry",
    tag = "log",
    summary = "One entry of the log",
    description = "The entry's bytes, text: `qoltanba-log-entry/1`, the kind and what it is \
        about (a document's number, a certificate's serial), its hashes and time. Its leaf hash \
        is SHA-256(0x00 ‖ these bytes).",
    params(("index" = u64, Path, description = "0-based.")),
    responses(
        (status = 200, description = "The entry.", content_type = "text/plain"),
        (status = 404, description = "`not_found`: the log is shorter.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn entry(
    State(state): State<AppState>,
    ApiPath(index): ApiPath<u64>,
) -> Result<Response, ApiError> {
    let bytes = state
        .pki
        .log_entry(index)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("the log has no entry {index}")))?;
    Ok(text(String::from_utf8_lossy(&bytes).into_owned()))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct InclusionQuery {
    /// The leaf, 0-based.
    index: u64,
    /// The tree size of the checkpoint to prove against; the newest checkpoint's by default.
    #[serde(default)]
    size: Option<u64>,
}

/// An inclusion proof.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct InclusionProof {
    index: u64,
    size: u64,
    /// The tree's root at `size`, base64.
    root: String,
    /// RFC 9162 audit path, base64, leaf's sibling first.
    hashes: Vec<String>,
}

/// `GET /v1/log/proof/inclusion?index=&size=`.
#[utoipa::path(
    get,
    path = "/v1/log/proof/inclusion",
    operation_id = "getLogInclusionProof",
    tag = "log",
    summary = "Inclusion proof of an entry",
    description = "RFC 9162 §2.1.3: the hashes that lead from leaf `index` to the root of the \
        tree of `size` leaves (the newest checkpoint's size by default).",
    params(InclusionQuery),
    responses(
        (status = 200, description = "The proof.", body = InclusionProof),
        (status = 400, description = "`invalid_request`: the index is not in a tree of that size.", body = super::openapi::ErrorBody),
        (status = 404, description = "`not_found`: the log is not that large.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn inclusion(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<InclusionQuery>,
) -> Result<Json<InclusionProof>, ApiError> {
    let size = match query.size {
        Some(size) => size,
        None => state.pki.log_checkpoint().await?.size,
    };
    let proof = state.pki.log_inclusion(query.index, size).await?;
    let root = state.pki.log_root(size).await?;
    Ok(Json(InclusionProof {
        index: query.index,
        size,
        root: b64(&root),
        hashes: proof.hashes.iter().map(b64).collect(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct ConsistencyQuery {
    /// The older tree size (a checkpoint the caller holds).
    from: u64,
    /// The newer tree size; the newest checkpoint's by default.
    #[serde(default)]
    to: Option<u64>,
}

/// A consistency proof.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct ConsistencyProof {
    from: u64,
    to: u64,
    /// RFC 9162 consistency path, base64.
    hashes: Vec<String>,
}

/// `GET /v1/log/proof/consistency?from=&to=`.
#[utoipa::path(
    get,
    path = "/v1/log/proof/consistency",
    operation_id = "getLogConsistencyProof",
    tag = "log",
    summary = "Consistency proof between two tree sizes",
    description = "RFC 9162 §2.1.4: the hashes that show the tree of `from` leaves is a prefix \
        of the tree of `to` leaves (the newest checkpoint's size by default). A client holding \
        an older checkpoint checks every newer one with it: a log that rewrote its past cannot \
        produce one.",
    params(ConsistencyQuery),
    responses(
        (status = 200, description = "The proof.", body = ConsistencyProof),
        (status = 400, description = "`invalid_request`: `from` is larger than `to`.", body = super::openapi::ErrorBody),
        (status = 404, description = "`not_found`: the log is not that large.", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn consistency(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    let to = match query.to {
        Some(to) => to,
        None => state.pki.log_checkpoint().await?.size,
    };
    let proof = state.pki.log_consistency(query.from, to).await?;
    Ok(Json(ConsistencyProof {
        from: query.from,
        to,
        hashes: proof.hashes.iter().map(b64).collect(),
    }))
}

/// A document's place in the log, as its record shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct DocumentLogView {
    /// Its entry's index.
    index: u64,
    /// The size of the newest checkpoint it was proved in (null: it came after that one).
    checkpoint_size: Option<u64>,
    /// Whether the document as stored now, its entry and the inclusion proof lead to that
    /// checkpoint's root.
    included: bool,
    /// What was found, in words.
    detail: String,
}

impl DocumentLogView {
    /// One line for a person: the entry, and proved or not.
    pub(super) fn describe(&self) -> String {
        if self.included {
            self.detail.clone()
        } else {
            format!(
                "НЕ ПОДТВЕРЖДЕНО / РАСТАЛМАДЫ / NOT PROVED — entry {}: {}",
                self.index, self.detail
            )
        }
    }

    pub(super) fn of(found: &DocumentInLog) -> Self {
        let size = found.proved.as_ref().map(|(c, _)| c.size);
        DocumentLogView {
            index: found.index,
            checkpoint_size: size,
            included: found.verdict.is_ok(),
            detail: match (&found.verdict, size) {
                (Ok(()), Some(size)) => format!(
                    "entry {} is proved in the signed checkpoint of {size} entries",
                    found.index
                ),
                (Ok(()), None) => format!("entry {}", found.index),
                (Err(why), _) => why.clone(),
            },
        }
    }
}

/// A document's inclusion proof, with everything needed to check it offline.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct DocumentProof {
    index: u64,
    /// The entry's bytes (text).
    entry: String,
    /// The signed checkpoint the proof leads to (a C2SP signed note).
    checkpoint: String,
    /// The checkpoint's size.
    size: u64,
    /// RFC 9162 audit path, base64, leaf's sibling first.
    hashes: Vec<String>,
    /// Whether the service's own check passed (the document as stored now).
    included: bool,
    detail: String,
}

/// `GET /v1/documents/{id}/proof`.
#[utoipa::path(
    get,
    path = "/v1/documents/{id}/proof",
    operation_id = "getDocumentProof",
    tag = "log",
    summary = "A document's inclusion proof in the transparency log",
    description = "The document's log entry, the newest signed checkpoint and the RFC 9162 \
        inclusion proof between them: save it and check it offline with `qoltanba log verify \
        --proof FILE` (and the signature file with `--document`).",
    params(("id" = String, Path, description = "The document id.")),
    responses(
        (status = 200, description = "The proof.", body = DocumentProof),
        (status = 404, description = "`not_found`: no such document, or it is not in a signed checkpoint yet (retry in a second).", body = super::openapi::ErrorBody),
    ),
)]
pub(super) async fn document_proof(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DocumentProof>, ApiError> {
    let record = super::documents::find(&state, &id).await?;
    let found = state.pki.document_in_log(&record).await?.ok_or_else(|| {
        ApiError::not_found("the document is not in the log (registered before it)")
    })?;
    let view = DocumentLogView::of(&found);
    let Some((checkpoint, proof)) = found.proved else {
        return Err(ApiError::not_found(view.detail));
    };
    Ok(Json(DocumentProof {
        index: found.index,
        entry: String::from_utf8_lossy(&found.entry).into_owned(),
        checkpoint: checkpoint.note,
        size: checkpoint.size,
        hashes: proof.hashes.iter().map(b64).collect(),
        included: view.included,
        detail: view.detail,
    }))
}
