-- The time-stamping authority (issue 15): the serial number of every time-stamp token it
-- issues, one counter for every instance on this database, so two instances never hand out the
-- same serial (RFC 3161 §2.4.2: unique for each token from a given TSA). Its key and certificate
-- are an `authorities` row (role 'tsa') and a `certificates` row like the OCSP responder's.
INSERT INTO counters (name, value) VALUES ('tsp_serial', 0);
