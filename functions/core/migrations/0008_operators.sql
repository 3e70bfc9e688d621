-- QwenEditBot schema, version 8: who did it. An operator's cancel or refund (the console,
-- the REST API with an admin id) names the operator on the job or payment, and the ledger
-- entry the status change writes carries it in its note ("cancelled by anna").

ALTER TABLE jobs ADD COLUMN cancelled_by TEXT;
ALTER TABLE payments ADD COLUMN refunded_by TEXT;

DROP TRIGGER IF EXISTS jobs_refund;
CREATE TRIGGER IF NOT EXISTS jobs_refund AFTER UPDATE OF status ON jobs
WHEN NEW.status IN ('failed', 'cancelled') AND OLD.status NOT IN ('failed', 'cancelled')
     AND NEW.cost > 0
BEGIN
    INSERT OR IGNORE INTO ledger (user_id, amount, kind, reference, note, created_at)
    VALUES (NEW.user_id, NEW.cost, 'job_refund', NEW.id,
            CASE WHEN NEW.cancelled_by IS NULL THEN NULL ELSE 'cancelled by ' || NEW.cancelled_by END,
            COALESCE(NEW.finished_at, NEW.created_at));
END;

DROP TRIGGER IF EXISTS payments_refund;
CREATE TRIGGER IF NOT EXISTS payments_refund AFTER UPDATE OF status ON payments
WHEN NEW.status = 'refunded' AND OLD.status = 'succeeded' AND NEW.refunded > 0
BEGIN
    INSERT OR IGNORE INTO ledger (user_id, amount, kind, reference, note, created_at)
    VALUES (NEW.user_id, -NEW.refunded, 'topup_refund', NEW.id,
            CASE WHEN NEW.refunded_by IS NULL THEN NULL ELSE 'refunded by ' || NEW.refunded_by END,
            NEW.updated_at);
END;
