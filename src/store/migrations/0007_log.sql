-- The transparency log (issue 17): every document, certificate and status change, appended as a
-- leaf in the transaction that stores it. `log_entries` holds the leaves in order (idx 0, 1, …
-- without gaps: the appender holds the log's lock until its commit); `log_hashes` the hashes of
-- the tree's complete subtrees at Go sumdb/tlog's stored index (leaf hashes included), from which
-- every tile, tree head and proof is read; `log_checkpoints` the signed tree heads (C2SP signed
-- notes). All three, and `documents`, are append-only: the triggers added with this migration
-- refuse UPDATE and DELETE, and the service refuses to start when the stored tree no longer matches its newest
-- checkpoint.
CREATE TABLE log_entries (
    idx        BIGINT PRIMARY KEY,
    kind       TEXT NOT NULL,        -- document | certificate | status
    reference  TEXT NOT NULL,        -- the document's number, the certificate's serial
    entry      BYTEA NOT NULL,       -- the leaf's bytes (tlog::Entry::encode)
    created_at BIGINT NOT NULL
);
CREATE INDEX log_entries_reference ON log_entries (reference);

CREATE TABLE log_hashes (
    idx  BIGINT PRIMARY KEY,
    hash BYTEA NOT NULL
);

CREATE TABLE log_checkpoints (
    size       BIGINT PRIMARY KEY,
    root       BYTEA NOT NULL,
    note       TEXT NOT NULL,        -- the signed checkpoint as served
    created_at BIGINT NOT NULL
);

-- The log's signing key (Ed25519), made with the PKI: one row, `role` 'log'. Its name is the
-- log's origin; `verifier` is the note verifier key published with the CA certificates.
CREATE TABLE log_keys (
    role          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    verifier      TEXT NOT NULL,
    encrypted_key BYTEA NOT NULL,     -- PKCS#8, encrypted with the CA passphrase (PBES2)
    created_at    BIGINT NOT NULL
);
