-- The Admin Console's requests inbox reads v2 requests newest first, a page after a
-- (created, id) cursor (`requests_newest_first`): an index in that order keeps each page a
-- short range scan however many requests the org has.
CREATE INDEX ar_requests_newest ON ar_requests (api_version, created, id);
