//! The route table: every method and path of the `api` component and the operation behind it.

/// The operations behind the routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `GET /health`
    Health,
    /// `GET /api/openapi.json`
    OpenApi,
    /// `POST /api/users/`
    UpsertUser,
    /// `GET /api/users/{telegram_id}`
    GetUser,
    /// `GET /api/users/{telegram_id}/jobs`
    UserJobs,
    /// `GET /api/balance/{telegram_id}`
    GetBalance,
    /// `GET /api/balance/{telegram_id}/history`
    BalanceHistory,
    /// `POST /api/balance/{telegram_id}/adjust`
    AdjustBalance,
    /// `GET /api/presets/`
    ListPresets,
    /// `GET /api/presets/categories`
    Categories,
    /// `GET /api/presets/{id}`
    GetPreset,
    /// `POST /api/presets/{id}`
    CreatePreset,
    /// `PUT /api/presets/{id}`
    UpdatePreset,
    /// `DELETE /api/presets/{id}`
    DeletePreset,
    /// `POST /api/jobs/`
    CreateJob,
    /// `GET /api/jobs/{id}`
    GetJob,
    /// `POST /api/jobs/{id}/cancel`
    CancelJob,
    /// `POST /internal/jobs/{id}/events`
    JobEvent,
    /// `POST /internal/jobs/sweep`
    Sweep,
    /// `POST /internal/hosts/heartbeat`
    HostReport,
    /// `GET /api/fleet`
    Fleet,
    /// `GET /metrics`
    Metrics,
    /// `GET /api/stats`
    Stats,
    /// `/api/payments/…` and `GET /api/users/{telegram_id}/payments`
    Payments(PaymentOp),
    /// `/api/reconciliations…`
    Reconciliations(ReconcileOp),
}

/// One route: method, path pattern (`{name}` = one segment), operation.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Path pattern as in the OpenAPI document.
    pub path: &'static str,
    /// Operation.
    pub op: Op,
}

const fn route(method: &'static str, path: &'static str, op: Op) -> Route {
    Route { method, path, op }
}

/// Every route of the `api` component, matched in order (literal segments before captures).
pub const ROUTES: &[Route] = &[
    route("GET", "/health", Op::Health),
    route("GET", "/api/openapi.json", Op::OpenApi),
    route("POST", "/api/users/", Op::UpsertUser),
    route("GET", "/api/users/{telegram_id}", Op::GetUser),
    route("GET", "/api/users/{telegram_id}/jobs", Op::UserJobs),
    route("GET", "/api/balance/{telegram_id}", Op::GetBalance),
    route(
        "GET",
        "/api/balance/{telegram_id}/history",
        Op::BalanceHistory,
    ),
    route(
        "POST",
        "/api/balance/{telegram_id}/adjust",
        Op::AdjustBalance,
    ),
    route("GET", "/api/presets/", Op::ListPresets),
    route("GET", "/api/presets/categories", Op::Categories),
    route("GET", "/api/presets/{id}", Op::GetPreset),
    route("POST", "/api/presets/{id}", Op::CreatePreset),
    route("PUT", "/api/presets/{id}", Op::UpdatePreset),
    route("DELETE", "/api/presets/{id}", Op::DeletePreset),
    route("POST", "/api/jobs/", Op::CreateJob),
    route("GET", "/api/jobs/{id}", Op::GetJob),
    route("POST", "/api/jobs/{id}/cancel", Op::CancelJob),
    route("GET", "/api/stats", Op::Stats),
    route("POST", "/api/payments/", Op::Payments(PaymentOp::Create)),
    route("GET", "/api/payments/", Op::Payments(PaymentOp::List)),
    route("GET", "/api/payments/{id}", Op::Payments(PaymentOp::Get)),
    route(
        "POST",
        "/api/payments/{id}/refund",
        Op::Payments(PaymentOp::Refund),
    ),
    route(
        "GET",
        "/api/users/{telegram_id}/payments",
        Op::Payments(PaymentOp::ForUser),
    ),
    route("POST", "/internal/jobs/sweep", Op::Sweep),
    route("POST", "/internal/hosts/heartbeat", Op::HostReport),
    route("GET", "/api/fleet", Op::Fleet),
    route("GET", "/metrics", Op::Metrics),
    route("POST", "/internal/jobs/{id}/events", Op::JobEvent),
    route(
        "POST",
        "/api/reconciliations",
        Op::Reconciliations(ReconcileOp::Run),
    ),
    route(
        "GET",
        "/api/reconciliations",
        Op::Reconciliations(ReconcileOp::List),
    ),
    route(
        "GET",
        "/api/reconciliations/{id}",
        Op::Reconciliations(ReconcileOp::Get),
    ),
    route(
        "POST",
        "/api/reconciliations/{id}/items/{n}/credit",
        Op::Reconciliations(ReconcileOp::Credit),
    ),
];

fn segments(path: &str) -> Vec<&str> {
    path.trim_end_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect()
}

/// Matches a path against a pattern; returns the captured segments.
pub fn match_path<'p>(pattern: &str, path: &'p str) -> Option<Vec<&'p str>> {
    let (pat, got) = (segments(pattern), segments(path));
    if pat.len() != got.len() {
        return None;
    }
    let mut captures = Vec::new();
    for (p, g) in pat.iter().zip(&got) {
        if p.starts_with('{') {
            captures.push(*g);
        } else if p != g {
            return None;
        }
    }
    Some(captures)
}

/// Finds the route for a method and path: `Ok((op, captures))`, or `Err(allowed methods)`
/// when the path exists under other methods (empty when it does not exist at all).
pub fn find_route<'p>(
    method: &str,
    path: &'p str,
) -> Result<(Op, Vec<&'p str>), Vec<&'static str>> {
    // The first pattern that matches the path is the path's resource (literal segments are
    // listed before captures): `/api/presets/categories` is not `/api/presets/{id}`.
    let Some(pattern) = ROUTES.iter().find(|r| match_path(r.path, path).is_some()) else {
        return Err(Vec::new());
    };
    let mut allowed = Vec::new();
    for r in ROUTES.iter().filter(|r| r.path == pattern.path) {
        if r.method.eq_ignore_ascii_case(method) {
            return Ok((r.op, match_path(r.path, path).unwrap_or_default()));
        }
        allowed.push(r.method);
    }
    Err(allowed)
}

/// A payment route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentOp {
    /// `POST /api/payments/`
    Create,
    /// `GET /api/payments/`
    List,
    /// `GET /api/payments/{id}`
    Get,
    /// `POST /api/payments/{id}/refund`
    Refund,
    /// `GET /api/users/{telegram_id}/payments`
    ForUser,
}

/// A reconciliation route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconcileOp {
    /// `POST /api/reconciliations`
    Run,
    /// `GET /api/reconciliations`
    List,
    /// `GET /api/reconciliations/{id}`
    Get,
    /// `POST /api/reconciliations/{id}/items/{n}/credit`
    Credit,
}
