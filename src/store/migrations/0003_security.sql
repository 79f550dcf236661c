-- API keys: only a hash of the secret is kept; the token is shown once when created.
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,       -- the public half of the token, 16 hex digits
    name        TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,          -- SHA-256 of the secret half, lower-case hex
    scopes      TEXT NOT NULL,          -- space-separated: verify sign pki:issue pki:revoke admin
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

-- The audit trail: who did what, when, with what outcome. Rows are only ever inserted; the
-- triggers added with this migration refuse UPDATE and DELETE on both engines. No secret
-- (token, password, key) is ever written here.
CREATE TABLE audit_log (
    seq         BIGSERIAL PRIMARY KEY,
    at          BIGINT NOT NULL,
    request_id  TEXT NOT NULL,
    actor       TEXT NOT NULL,          -- "key:NAME", "anonymous" or "cli"
    action      TEXT NOT NULL,          -- e.g. "POST /v1/pki/certificates", "cli pki issue"
    target      TEXT NOT NULL,          -- the path or object acted on
    outcome     TEXT NOT NULL,          -- "ok", "refused", "failed"
    status      BIGINT NOT NULL,        -- HTTP status, or the CLI exit code
    detail      TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
