//! Every JSON body the REST API answers with besides the domain's own types: one struct each,
//! serialized by the handlers and described by the OpenAPI document from the same type, so a
//! field cannot be added to one and forgotten in the other.

use serde::Serialize;
use utoipa::ToSchema;

use qwen_core::backlog::QueueBacklog;
use qwen_core::contract::JobStatus;
use qwen_core::fleet::{Fleet, Wait};
use qwen_core::payments::reconcile::Head;
use qwen_core::payments::{Payment, store::Total};
use qwen_core::{Page, jobs, ledger, presets};

/// One page of a list, newest first.
macro_rules! page_body {
    ($(#[$doc:meta])* $name:ident, $item:ty) => {
        $(#[$doc])*
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $name {
            /// The page's items.
            pub items: Vec<$item>,
            /// Items in all pages.
            pub total: i64,
            /// Items per page.
            #[schema(minimum = 1, maximum = 100)]
            pub limit: i64,
            /// Items skipped.
            #[schema(minimum = 0)]
            pub offset: i64,
        }

        impl $name {
            /// The page `page` of `total` items.
            pub fn new(items: Vec<$item>, total: i64, page: Page) -> Self {
                $name { items, total, limit: page.limit, offset: page.offset }
            }
        }
    };
}

page_body!(
    /// A page of a user's jobs, newest first.
    JobPage,
    jobs::Job
);
page_body!(
    /// A page of a user's ledger entries, newest first.
    EntryPage,
    ledger::Entry
);
page_body!(
    /// A page of payments, newest first.
    PaymentPage,
    Payment
);
page_body!(
    /// A page of reconciliation reports, newest first.
    ReportPage,
    Head
);

/// A page of payments with the totals of everything the filter matched.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentListing {
    /// The page.
    #[serde(flatten)]
    pub page: PaymentPage,
    /// Totals per currency and status over all pages.
    pub totals: Vec<Total>,
}

/// Whether a dependency answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Probe {
    /// It answered.
    Ok,
    /// It did not.
    Unavailable,
}

impl Probe {
    /// `Ok` when `up`.
    pub fn of(up: bool) -> Probe {
        if up { Probe::Ok } else { Probe::Unavailable }
    }
}

/// Overall health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Overall {
    /// Database and queue answer.
    Ok,
    /// One of them does not.
    Degraded,
}

/// `GET /health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthBody {
    /// Overall.
    pub status: Overall,
    /// The database.
    pub database: Probe,
    /// The jobs stream (Redis).
    pub queue: Probe,
}

/// A user's balance.
#[derive(Debug, Serialize, ToSchema)]
pub struct Balance {
    /// The user.
    pub telegram_id: i64,
    /// Credits.
    pub balance: i64,
}

/// The presets.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresetList {
    /// Presets in display order.
    pub items: Vec<presets::Preset>,
}

/// A preset category with the number of its presets.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryCount {
    /// Stable id.
    pub id: String,
    /// Name in Russian.
    pub name_ru: String,
    /// Name in English.
    pub name_en: String,
    /// Display order.
    pub sort: i64,
    /// Presets in it.
    pub presets: i64,
}

/// The preset categories.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryList {
    /// Categories in display order.
    pub items: Vec<CategoryCount>,
}

/// `POST /api/jobs/`: the job created, charged and queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobCreated {
    /// The job's id.
    pub job_id: String,
    /// `queued`.
    pub status: JobStatus,
    /// Credits charged.
    pub cost: i64,
    /// The balance after the charge.
    pub balance_after: i64,
    /// Jobs ahead of it, plus one.
    pub queue_position: i64,
    /// The job.
    pub job: jobs::Job,
}

/// `GET /api/jobs/{id}`: a job with its place in the queue and the expected wait.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    /// The job.
    #[serde(flatten)]
    pub job: jobs::Job,
    /// Jobs ahead of it, plus one (0 when it is not waiting).
    pub queue_position: i64,
    /// The expected wait (none for a final job): `paused` when no GPU host is live.
    pub wait: Option<Wait>,
}

/// `POST /api/jobs/{id}/cancel`: the cancelled job and the refund.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobCancelled {
    /// The job, now `cancelled`.
    pub job: jobs::Job,
    /// Credits given back.
    pub refunded: i64,
    /// The balance after the refund.
    pub balance: i64,
}

/// `POST /internal/hosts/heartbeat`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Recorded {
    /// Always true.
    pub recorded: bool,
}

/// `GET /api/fleet`: the GPU hosts, the wait for a new job and the queue's backlog.
#[derive(Debug, Serialize, ToSchema)]
pub struct FleetView {
    /// Hosts and wait.
    #[serde(flatten)]
    pub fleet: Fleet,
    /// The jobs stream's backlog (null when Redis did not answer).
    pub backlog: Option<QueueBacklog>,
}

/// The YooKassa webhook's answer: what the notification did (`credited`, `duplicate`,
/// `canceled`, `refunded`, `unknown`, `mismatch`, `ignored`).
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationOutcome {
    /// What happened.
    pub status: &'static str,
}
