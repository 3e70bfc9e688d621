-- QwenEditBot schema, version 7: reconciliation reports. A report compares what YooKassa
-- and Telegram say was paid in a `[range_from, range_to)` range (Unix ms) with our payments;
-- `run` counts the reports of one range (1, then reruns). Each finding is an item, numbered
-- from 0; "credit now" sets `resolved_at`. Reports are written whole, in one transaction.

CREATE TABLE IF NOT EXISTS reconciliations (
    id          TEXT PRIMARY KEY,
    range_from  INTEGER NOT NULL,
    range_to    INTEGER NOT NULL CHECK (range_to > range_from),
    run         INTEGER NOT NULL CHECK (run >= 1),
    created_at  INTEGER NOT NULL,
    UNIQUE (range_from, range_to, run)
);

CREATE INDEX IF NOT EXISTS reconciliations_by_created ON reconciliations (created_at);

CREATE TABLE IF NOT EXISTS reconciliation_items (
    reconciliation_id   TEXT NOT NULL REFERENCES reconciliations (id),
    n                   INTEGER NOT NULL CHECK (n >= 0),
    kind                TEXT NOT NULL CHECK (kind IN ('matched', 'missing_ours', 'missing_theirs', 'amount_mismatch', 'refund_not_taken_back')),
    provider            TEXT NOT NULL CHECK (provider IN ('yookassa', 'stars')),
    payment_id          TEXT,
    provider_payment_id TEXT,
    refund_id           TEXT,
    user_id             INTEGER,
    our_amount          INTEGER,
    their_amount        INTEGER,
    currency            TEXT NOT NULL,
    our_status          TEXT,
    their_status        TEXT,
    their_at            INTEGER,
    note                TEXT NOT NULL,
    creditable          INTEGER NOT NULL DEFAULT 0 CHECK (creditable IN (0, 1)),
    resolved_at         INTEGER,
    PRIMARY KEY (reconciliation_id, n)
);

CREATE INDEX IF NOT EXISTS reconciliation_items_by_payment ON reconciliation_items (payment_id) WHERE payment_id IS NOT NULL;
