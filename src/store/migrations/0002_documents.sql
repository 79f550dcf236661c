-- The document registry (процесс 11). Rows are only ever inserted: a correction is a new
-- document that names the one it supersedes.
CREATE TABLE documents (
    id            TEXT PRIMARY KEY,
    number        TEXT NOT NULL UNIQUE,
    authority_bin TEXT NOT NULL,
    year          BIGINT NOT NULL,
    sequence      BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    canonical     BYTEA NOT NULL,     -- RFC 8785 JSON: the signed bytes
    cms           BYTEA NOT NULL,     -- CAdES-BES SignedData, DER
    detached      BIGINT NOT NULL,    -- 1 when the CMS does not carry the content
    sha256        TEXT NOT NULL,      -- of the canonical bytes, lower-case hex
    signer_serial TEXT NOT NULL,
    supersedes    TEXT REFERENCES documents(id),
    created_at    BIGINT NOT NULL,
    UNIQUE (authority_bin, year, sequence)
);
CREATE INDEX documents_sha256 ON documents (sha256);

-- Next registration number per authority and year; incremented in the transaction that stores
-- the document, so a failed signing gives its number back (no gaps) and two instances never
-- hand out the same one (the row lock serialises them).
CREATE TABLE document_counters (
    authority_bin TEXT NOT NULL,
    year          BIGINT NOT NULL,
    value         BIGINT NOT NULL,
    PRIMARY KEY (authority_bin, year)
);
