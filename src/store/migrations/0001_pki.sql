-- The test PKI. Written once for both engines: `BYTEA` is rewritten to `BLOB` for SQLite.

-- Certification authorities and the OCSP responder: certificate and PKCS#8 key encrypted with
-- the CA passphrase (PBES2). Shared by every instance on one database.
CREATE TABLE authorities (
    id            TEXT PRIMARY KEY,
    role          TEXT NOT NULL,          -- root | issuing | ocsp
    certificate   BYTEA NOT NULL,         -- DER
    encrypted_key BYTEA NOT NULL,         -- EncryptedPrivateKeyInfo DER
    created_at    BIGINT NOT NULL
);

-- Every certificate issued to a subscriber. Subscriber private keys are never stored.
CREATE TABLE certificates (
    serial            TEXT PRIMARY KEY,   -- upper-case hex of the DER INTEGER contents
    issuer_id         TEXT NOT NULL REFERENCES authorities(id),
    profile           TEXT NOT NULL,
    subject           TEXT NOT NULL,      -- RFC 4514 string, for people
    iin               TEXT,
    bin               TEXT,
    key_algorithm     TEXT NOT NULL,
    not_before        BIGINT NOT NULL,    -- unix seconds
    not_after         BIGINT NOT NULL,
    certificate       BYTEA NOT NULL,     -- DER
    status            TEXT NOT NULL,      -- good | revoked | hold
    revoked_at        BIGINT,
    revocation_reason TEXT,
    -- Position in the global sequence of status changes: a delta CRL lists what changed after
    -- the sequence number its base CRL was cut at.
    status_seq        BIGINT NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL
);
CREATE INDEX certificates_issuer_status ON certificates (issuer_id, status);
CREATE INDEX certificates_issuer_seq ON certificates (issuer_id, status_seq);

-- Monotonic counters (CRL numbers per CA, the status-change sequence). Incremented with
-- UPDATE … RETURNING so that concurrent instances never hand out the same value.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('status_seq', 0);

-- Every CRL ever published; the newest of each kind is served.
CREATE TABLE crls (
    issuer_id   TEXT NOT NULL REFERENCES authorities(id),
    number      BIGINT NOT NULL,
    kind        TEXT NOT NULL,            -- full | delta
    base_number BIGINT,                   -- delta: the full CRL it applies to
    as_of_seq   BIGINT NOT NULL,          -- full: status_seq when it was cut
    this_update BIGINT NOT NULL,
    next_update BIGINT NOT NULL,
    der         BYTEA NOT NULL,
    PRIMARY KEY (issuer_id, number)
);
