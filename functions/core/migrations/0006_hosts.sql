-- QwenEditBot schema, version 6: the GPU fleet. Each gpu-host reports itself every few
-- seconds; the last report per host is kept (as the JSON the host sent) with the time the
-- edge received it, so a host that stopped reporting shows as stale.

CREATE TABLE IF NOT EXISTS hosts (
    name        TEXT PRIMARY KEY,
    report      TEXT NOT NULL,
    received_at INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS jobs_by_finish ON jobs (finished_at) WHERE finished_at IS NOT NULL;
