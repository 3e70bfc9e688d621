-- QwenEditBot schema, version 9: what the sweep needs to bound and end things.
-- A user's unfinished jobs (the per-user cap is checked on every job creation by counting
-- these; a partial index keeps that count as small as the cap, however many jobs a user made).
CREATE INDEX IF NOT EXISTS jobs_unfinished_by_user ON jobs (user_id) WHERE status IN ('queued', 'running');

-- Silent hosts are forgotten after a few days; reports older than their retention are deleted.
CREATE INDEX IF NOT EXISTS hosts_by_received ON hosts (received_at);
