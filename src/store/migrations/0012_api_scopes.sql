-- API hardening (issue 12, item 5).

-- Keys scoped to areas: NULL is the whole department; otherwise entries 'PROVINCE' (a whole
-- province) or 'PROVINCE/COMMUNE' (one commune of it), as `loa keys create --areas` takes them.
-- Admins manage keys, so an admin key scoped to a few communes would be a contradiction.
ALTER TABLE api_keys ADD COLUMN areas text[];
ALTER TABLE api_keys ADD CONSTRAINT api_keys_areas_not_empty CHECK (areas IS NULL OR cardinality(areas) > 0);
ALTER TABLE api_keys ADD CONSTRAINT api_keys_admin_unscoped CHECK (areas IS NULL OR role <> 'admin');

-- GET /v1/audit: newest first, narrowed by actor, action or time, paged by id.
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_actor ON audit_log (actor, id DESC);
CREATE INDEX audit_log_action ON audit_log (action, id DESC);
