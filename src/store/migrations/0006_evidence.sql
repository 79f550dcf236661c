-- Evidence versions of a registered document (issue 15): the `documents` row keeps the
-- signature as signed (level B) forever; each extension (to T, LT, LTA) and each evidence
-- renewal (one more archive time-stamp) appends the whole extended CMS as the next generation.
-- A document's current signature is its newest generation, else `documents.cms`. Rows are only
-- ever inserted: the triggers added with this migration refuse UPDATE and DELETE. The primary
-- key makes two instances that extend one document at once fail cleanly: the second insert of
-- a generation conflicts, and its stamp is dropped rather than stored twice.
CREATE TABLE document_evidence (
    document_id TEXT NOT NULL REFERENCES documents(id),
    generation  BIGINT NOT NULL,      -- 1, 2, … per document
    level       TEXT NOT NULL CHECK (level IN ('T', 'LT', 'LTA')),
    cms         BYTEA NOT NULL,       -- the extended SignedData, DER
    -- Unix seconds until which this evidence holds: notAfter of the TSA certificate of its
    -- newest time-stamp. Renewal adds an archive time-stamp well before it.
    horizon     BIGINT NOT NULL,
    -- OID of the hash algorithm of the newest time-stamp's message imprint: renewal also
    -- re-stamps evidence whose hash has become weak.
    digest      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (document_id, generation)
);
CREATE INDEX document_evidence_horizon ON document_evidence (horizon);
