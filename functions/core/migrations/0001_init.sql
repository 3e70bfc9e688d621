-- QwenEditBot schema, version 1.
-- Statements end with ';' at the end of a line; trigger bodies (BEGIN … END;) are kept whole.

CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS users (
    telegram_id   INTEGER PRIMARY KEY,
    username      TEXT,
    first_name    TEXT,
    last_name     TEXT,
    language_code TEXT,
    lang          TEXT,
    signup_bonus  INTEGER NOT NULL DEFAULT 0 CHECK (signup_bonus >= 0),
    blocked_at    INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- Derived from the ledger by trigger; the CHECK makes a negative balance impossible.
CREATE TABLE IF NOT EXISTS balances (
    user_id INTEGER PRIMARY KEY,
    balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0)
);

-- Append-only: every money movement, unique per (kind, reference).
CREATE TABLE IF NOT EXISTS ledger (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    amount     INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('signup_bonus', 'job_charge', 'job_refund',
               'topup', 'topup_bonus', 'topup_refund', 'admin_adjustment')),
    reference  TEXT NOT NULL,
    note       TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (kind, reference)
);

CREATE INDEX IF NOT EXISTS ledger_by_user ON ledger (user_id, id);

CREATE TRIGGER IF NOT EXISTS ledger_apply AFTER INSERT ON ledger
BEGIN
    INSERT OR IGNORE INTO balances (user_id, balance) VALUES (NEW.user_id, 0);
    UPDATE balances SET balance = balance + NEW.amount WHERE user_id = NEW.user_id;
END;

CREATE TRIGGER IF NOT EXISTS ledger_no_update BEFORE UPDATE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'ledger is append-only');
END;

CREATE TRIGGER IF NOT EXISTS ledger_no_delete BEFORE DELETE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'ledger is append-only');
END;

CREATE TRIGGER IF NOT EXISTS users_signup_bonus AFTER INSERT ON users
WHEN NEW.signup_bonus > 0
BEGIN
    INSERT OR IGNORE INTO ledger (user_id, amount, kind, reference, created_at)
    VALUES (NEW.telegram_id, NEW.signup_bonus, 'signup_bonus', CAST(NEW.telegram_id AS TEXT), NEW.created_at);
END;

CREATE TABLE IF NOT EXISTS preset_categories (
    id         TEXT PRIMARY KEY,
    name_ru    TEXT NOT NULL,
    name_en    TEXT NOT NULL,
    sort       INTEGER NOT NULL DEFAULT 0,
    deleted_at INTEGER
);

CREATE TABLE IF NOT EXISTS presets (
    id             TEXT PRIMARY KEY,
    category       TEXT NOT NULL,
    name_ru        TEXT NOT NULL,
    name_en        TEXT NOT NULL,
    description_ru TEXT NOT NULL DEFAULT '',
    description_en TEXT NOT NULL DEFAULT '',
    prompt         TEXT NOT NULL,
    cost           INTEGER NOT NULL CHECK (cost >= 0),
    sort           INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    deleted_at     INTEGER
);

CREATE INDEX IF NOT EXISTS presets_by_category ON presets (category, sort, id);

CREATE TABLE IF NOT EXISTS jobs (
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    user_id          INTEGER NOT NULL,
    chat_id          INTEGER NOT NULL,
    preset_id        TEXT,
    prompt           TEXT NOT NULL,
    file_ids         TEXT NOT NULL,
    cost             INTEGER NOT NULL CHECK (cost >= 0),
    seed             INTEGER NOT NULL,
    workflow         TEXT NOT NULL,
    lang             TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    attempt          INTEGER NOT NULL DEFAULT 0,
    host             TEXT,
    delivery_attempt INTEGER,
    failure_reason   TEXT,
    failure_message  TEXT,
    output           TEXT,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    delivery_at      INTEGER,
    finished_at      INTEGER
);

CREATE INDEX IF NOT EXISTS jobs_by_user ON jobs (user_id, seq);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, seq);

-- The charge is part of the job's INSERT: one statement, so job and charge commit together,
-- and the balance CHECK refuses the whole insert when the balance is short.
CREATE TRIGGER IF NOT EXISTS jobs_charge AFTER INSERT ON jobs
WHEN NEW.cost > 0
BEGIN
    INSERT INTO ledger (user_id, amount, kind, reference, created_at)
    VALUES (NEW.user_id, -NEW.cost, 'job_charge', NEW.id, NEW.created_at);
END;

-- A job that ends failed or cancelled is refunded exactly once, in the same statement.
CREATE TRIGGER IF NOT EXISTS jobs_refund AFTER UPDATE OF status ON jobs
WHEN NEW.status IN ('failed', 'cancelled') AND OLD.status NOT IN ('failed', 'cancelled')
     AND NEW.cost > 0
BEGIN
    INSERT OR IGNORE INTO ledger (user_id, amount, kind, reference, created_at)
    VALUES (NEW.user_id, NEW.cost, 'job_refund', NEW.id, COALESCE(NEW.finished_at, NEW.created_at));
END;

CREATE TABLE IF NOT EXISTS payments (
    id                  TEXT PRIMARY KEY,
    user_id             INTEGER NOT NULL,
    method              TEXT NOT NULL,
    amount              INTEGER NOT NULL CHECK (amount > 0),
    currency            TEXT NOT NULL,
    credits             INTEGER NOT NULL CHECK (credits >= 0),
    bonus               INTEGER NOT NULL DEFAULT 0 CHECK (bonus >= 0),
    status              TEXT NOT NULL DEFAULT 'pending',
    provider_payment_id TEXT UNIQUE,
    confirmation_url    TEXT,
    failure             TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS payments_by_user ON payments (user_id, created_at);
CREATE INDEX IF NOT EXISTS payments_by_status ON payments (status, created_at);

-- Telegram update_ids claimed by the webhook (at most once), pruned by age.
CREATE TABLE IF NOT EXISTS processed_updates (
    update_id  INTEGER PRIMARY KEY,
    claimed_at INTEGER NOT NULL
);
