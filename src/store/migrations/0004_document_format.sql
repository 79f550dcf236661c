-- How a document is signed (issue 13): 'cms' — `canonical` is its RFC 8785 JSON and `cms` the
-- CAdES-BES SignedData over it; 'xml' — `canonical` is its unsigned XML form and `cms` that
-- document with its enveloped XMLDSig signature. `sha256` is of `canonical` either way. Rows
-- already stored are CMS-signed, which the default says; the column never changes afterwards.
ALTER TABLE documents ADD COLUMN format TEXT NOT NULL DEFAULT 'cms' CHECK (format IN ('cms', 'xml'));
