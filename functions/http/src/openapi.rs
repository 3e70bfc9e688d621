//! The OpenAPI 3.1 document served at `GET /api/openapi.json`, generated from the route
//! table ([`crate::rest::ROUTES`]) and the request/response types (`utoipa::ToSchema`).
//! Every operation is described by [`describe`], an exhaustive match on [`Op`]: a route
//! added to the table without a description does not compile, and the tests check that
//! the document lists every route with its method.

use utoipa::openapi::link::{Link, LinkBuilder};
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{
    AllOfBuilder, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, KnownFormat, OpenApi, OpenApiBuilder, PathItem,
    PathsBuilder, Ref, RefOr, Required, ResponseBuilder, SchemaFormat,
};
use utoipa::{PartialSchema, ToSchema};

use crate::bodies;
use crate::routes::{Op, PaymentOp, ROUTES, ReconcileOp};
use qwen_core::contract::{EventReply, HostHeartbeat, JobEvent, JobStatus};
use qwen_core::payments::reconcile;
use qwen_core::payments::{Payment, PaymentStatus, checkout};
use qwen_core::{jobs, ledger, presets, stats, users};

/// Largest page a list answers (`limit`).
pub const MAX_LIMIT: i64 = 100;

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Anyone.
    None,
    /// `Authorization: Bearer <api_token>`.
    Bearer,
    /// The gpu-host's HMAC signature headers.
    Signed,
}

/// What the document says about one operation.
#[derive(Clone)]
pub struct Doc {
    /// One line.
    pub summary: &'static str,
    /// Who may call it.
    pub auth: Auth,
    /// The request body schema, when it takes one.
    pub body: Option<RefOr<Schema>>,
    /// Query parameters: name, schema.
    pub query: Vec<(&'static str, RefOr<Schema>)>,
    /// Successful answers: status, description, body schema.
    pub ok: Vec<(u16, &'static str, Option<RefOr<Schema>>)>,
    /// Refusals beyond the common ones: status and description.
    pub errors: Vec<(u16, &'static str)>,
}

fn doc(summary: &'static str, ok: Vec<(u16, &'static str, Option<RefOr<Schema>>)>) -> Doc {
    Doc {
        summary,
        auth: Auth::Bearer,
        body: None,
        query: Vec::new(),
        ok,
        errors: Vec::new(),
    }
}

impl Doc {
    fn body(mut self, schema: RefOr<Schema>) -> Doc {
        self.body = Some(schema);
        self.errors
            .push((400, "Malformed JSON or a body that does not fit the schema"));
        self
    }
    fn errors(mut self, more: &[(u16, &'static str)]) -> Doc {
        self.errors.extend_from_slice(more);
        self
    }
    fn paged(mut self) -> Doc {
        self.query.push(("limit", int_range(1, MAX_LIMIT)));
        self.query.push(("offset", int_range(0, i64::MAX)));
        self
    }
    fn auth(mut self, auth: Auth) -> Doc {
        self.auth = auth;
        self
    }
}

fn r<T: ToSchema>() -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(T::name()))
}

const INT64: SchemaFormat = SchemaFormat::KnownFormat(KnownFormat::Int64);

fn int64() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(INT64))
}

/// An integer in `min..=max`.
pub fn int_range(min: i64, max: i64) -> RefOr<Schema> {
    int64()
        .minimum(Some(min as f64))
        .maximum(Some(max as f64))
        .into()
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn object(fields: &[(&str, RefOr<Schema>)]) -> RefOr<Schema> {
    let mut b = ObjectBuilder::new().schema_type(Type::Object);
    for (name, schema) in fields {
        b = b.property(*name, schema.clone()).required(*name);
    }
    b.into()
}

/// The body of `POST /api/balance/{telegram_id}/adjust`.
pub fn adjust_schema() -> RefOr<Schema> {
    let amount = OneOfBuilder::new()
        .item(int_range(-1_000_000_000, -1))
        .item(int_range(1, 1_000_000_000))
        .description(Some("Signed credits, non-zero, at most 10^9 either way"));
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("amount", amount)
        .required("amount")
        .property("reason", non_blank(500))
        .required("reason")
        .property("reference", string().description(Some("Idempotency key")))
        .property(
            "admin_id",
            int64().description(Some("The admin acting (in ADMIN_IDS)")),
        )
        .into()
}

/// A string of 1–`max` characters that is not only spaces.
pub fn non_blank(max: usize) -> RefOr<Schema> {
    string()
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(r"\S"))
        .into()
}

/// The ids of the categories a preset may name: the built-in ones (the database holds
/// exactly these; no route adds or removes a category).
fn category_ids() -> Vec<String> {
    presets::builtin()
        .map(|(cats, _)| cats.into_iter().map(|c| c.id).collect())
        .unwrap_or_default()
}

/// The body of `POST`/`PUT /api/presets/{id}` (the id comes from the path).
pub fn preset_input_schema() -> RefOr<Schema> {
    let category = string()
        .enum_values(Some(category_ids()))
        .description(Some("A category id (see GET /api/presets/categories)"));
    let name = || non_blank(presets::MAX_NAME_CHARS);
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("category", category)
        .required("category")
        .property("name_ru", name())
        .required("name_ru")
        .property("name_en", name())
        .required("name_en")
        .property("description_ru", string())
        .property("description_en", string())
        .property("prompt", non_blank(qwen_core::prompt::MAX_PROMPT_CHARS))
        .required("prompt")
        .property("cost", int_range(0, i64::MAX))
        .required("cost")
        .property("sort", int64())
        .property("workflow", preset_workflow_schema())
        .into()
}

/// A preset's `workflow`: a template name, or absent/`null` for the deployment's default.
fn preset_workflow_schema() -> ObjectBuilder {
    nullable(Type::String)
        .pattern(Some(presets::IDENTIFIER_PATTERN))
        .description(Some(
            "The workflow (a template under the gpu-hosts' workflows/) its jobs run; \
             absent or null for the deployment's default_workflow. A host without it fails \
             the job (comfy_validation) and the charge is refunded",
        ))
}

fn nullable(ty: Type) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(SchemaType::Array(vec![ty, Type::Null]))
}

/// `preset_id` given as a string and `prompt` absent or null, or the other way round.
fn exactly_one_of(chosen: &str, other: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .property(chosen, string())
        .required(chosen)
        .property(other, ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

/// Like [`exactly_one_of`], for integer fields.
fn exactly_one_of_int(chosen: &str, other: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .property(chosen, int64())
        .required(chosen)
        .property(other, ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

/// The body of `POST /api/jobs/`.
pub fn new_job_schema() -> RefOr<Schema> {
    let file_id = string()
        .min_length(Some(1))
        .max_length(Some(jobs::MAX_FILE_ID_BYTES))
        .pattern(Some("^[!-~]+$"))
        .description(Some("A Telegram file id (visible ASCII)"));
    let files = ArrayBuilder::new()
        .items(file_id)
        .min_items(Some(1))
        .max_items(Some(jobs::MAX_IMAGES));
    let prompt = nullable(Type::String)
        .min_length(Some(1))
        .max_length(Some(qwen_core::prompt::MAX_PROMPT_CHARS))
        .pattern(Some(r"\S"));
    let one_of = OneOfBuilder::new()
        .item(exactly_one_of("preset_id", "prompt"))
        .item(exactly_one_of("prompt", "preset_id"));
    let fields = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("telegram_id", int_range(1, i64::MAX))
        .required("telegram_id")
        .property("chat_id", nullable(Type::Integer).format(Some(INT64)))
        .property("preset_id", nullable(Type::String))
        .property("prompt", prompt)
        .property("file_ids", files)
        .required("file_ids");
    AllOfBuilder::new()
        .item(fields)
        .item(one_of)
        .description(Some("Exactly one of preset_id and prompt"))
        .into()
}

/// The schema of `jobs::NewJob`, named `NewJob` (written out: "exactly one of preset_id and
/// prompt" is not derivable).
struct NewJob;

impl PartialSchema for NewJob {
    fn schema() -> RefOr<Schema> {
        new_job_schema()
    }
}

impl ToSchema for NewJob {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("NewJob")
    }
}

fn describe_fleet() -> Doc {
    doc(
        "The GPU hosts (stale ones marked), the queue and the wait for a new job",
        vec![(200, "The fleet", Some(r::<bodies::FleetView>()))],
    )
}

/// What the document says about `op`. Exhaustive: a new operation needs its description.
pub fn describe(op: Op) -> Doc {
    match op {
        Op::Health | Op::OpenApi | Op::Stats => describe_meta(op),
        Op::UpsertUser | Op::GetUser | Op::UserJobs => describe_user(op),
        Op::GetBalance | Op::BalanceHistory | Op::AdjustBalance => describe_balance(op),
        Op::ListPresets | Op::Categories | Op::GetPreset => describe_preset_reads(op),
        Op::CreatePreset | Op::UpdatePreset | Op::DeletePreset => describe_preset_writes(op),
        Op::CreateJob | Op::GetJob | Op::CancelJob => describe_job(op),
        Op::JobEvent | Op::Sweep | Op::HostReport => describe_internal(op),
        Op::Fleet => describe_fleet(),
        Op::Metrics => doc(
            "Prometheus metrics of the edge (text exposition format)",
            vec![(200, "The metrics", None)],
        ),
        Op::Payments(p) => describe_payment(p),
        Op::Reconciliations(r) => describe_reconciliation(r),
    }
}

const NO_USER: (u16, &str) = (404, "No such user");
const BAD_USER_ID: (u16, &str) = (422, "telegram_id is not a positive integer");
const BAD_PAGE: (u16, &str) = (422, "limit or offset is not an integer in its range");

fn describe_meta(op: Op) -> Doc {
    match op {
        Op::Health => doc(
            "Database and queue health",
            vec![(200, "Healthy", Some(r::<bodies::HealthBody>()))],
        )
        .auth(Auth::None)
        .errors(&[(503, "Database or queue unavailable")]),
        Op::OpenApi => {
            doc("This document", vec![(200, "The OpenAPI document", None)]).auth(Auth::None)
        }
        _ => doc(
            "Today's numbers",
            vec![(200, "The statistics", Some(r::<stats::Stats>()))],
        ),
    }
}

fn describe_user(op: Op) -> Doc {
    let profile = || Some(r::<qwen_core::profile::Profile>());
    match op {
        Op::UpsertUser => doc(
            "Register or update a user",
            vec![(200, "Updated", profile()), (201, "Created", profile())],
        )
        .body(r::<users::UserInput>())
        .errors(&[(422, "Invalid user")]),
        Op::GetUser => doc("A user's profile", vec![(200, "The profile", profile())])
            .errors(&[NO_USER, BAD_USER_ID]),
        _ => doc(
            "A user's jobs, newest first",
            vec![(200, "A page of jobs", Some(r::<bodies::JobPage>()))],
        )
        .paged()
        .errors(&[NO_USER, BAD_USER_ID, BAD_PAGE]),
    }
}

fn describe_balance(op: Op) -> Doc {
    match op {
        Op::GetBalance => doc(
            "A user's balance",
            vec![(200, "The balance", Some(r::<bodies::Balance>()))],
        )
        .errors(&[NO_USER, BAD_USER_ID]),
        Op::BalanceHistory => doc(
            "A user's ledger, newest first",
            vec![(200, "A page of entries", Some(r::<bodies::EntryPage>()))],
        )
        .paged()
        .errors(&[NO_USER, BAD_USER_ID, BAD_PAGE]),
        _ => doc(
            "Adjust a balance (admin); idempotent by reference",
            vec![
                (200, "Already posted", Some(r::<ledger::Posted>())),
                (201, "Posted", Some(r::<ledger::Posted>())),
            ],
        )
        .body(adjust_schema())
        .errors(&[
            (402, "The balance would go negative"),
            (403, "admin_id is not an admin"),
            NO_USER,
            (422, "Invalid telegram_id, amount or reason"),
        ]),
    }
}

fn describe_preset_reads(op: Op) -> Doc {
    match op {
        Op::ListPresets => Doc {
            query: vec![("category", string().into())],
            ..doc(
                "Presets, optionally of one category (none for an unknown one)",
                vec![(200, "The presets", Some(r::<bodies::PresetList>()))],
            )
        },
        Op::Categories => doc(
            "Preset categories with preset counts",
            vec![(200, "The categories", Some(r::<bodies::CategoryList>()))],
        ),
        _ => doc(
            "One preset",
            vec![(200, "The preset", Some(r::<presets::Preset>()))],
        )
        .errors(&[(404, "No such preset")]),
    }
}

fn describe_preset_writes(op: Op) -> Doc {
    let preset = || Some(r::<presets::Preset>());
    match op {
        Op::CreatePreset => doc("Create a preset", vec![(201, "Created", preset())])
            .body(preset_input_schema())
            .errors(&[(409, "The preset exists"), (422, "Invalid preset")]),
        Op::UpdatePreset => doc("Replace a preset", vec![(200, "Updated", preset())])
            .body(preset_input_schema())
            .errors(&[(404, "No such preset"), (422, "Invalid preset")]),
        _ => {
            doc("Delete a preset", vec![(204, "Deleted", None)]).errors(&[(404, "No such preset")])
        }
    }
}

fn describe_job(op: Op) -> Doc {
    match op {
        Op::CreateJob => doc(
            "Create an edit: charge, store, enqueue",
            vec![(201, "Created and queued", Some(r::<bodies::JobCreated>()))],
        )
        .body(r::<NewJob>())
        .errors(&[
            (402, "Balance too low"),
            (404, "No such user or preset"),
            (422, "Invalid job"),
            (
                429,
                "The user already has max_queued_per_user unfinished jobs (the cap is `error.cap`)",
            ),
        ]),
        Op::GetJob => doc(
            "A job with its queue position",
            vec![(200, "The job", Some(r::<bodies::JobView>()))],
        )
        .errors(&[(404, "No such job")]),
        _ => doc(
            "Cancel a queued job and refund it",
            vec![(200, "Cancelled", Some(r::<bodies::JobCancelled>()))],
        )
        .errors(&[(404, "No such job"), (409, "The job is not queued")]),
    }
}

fn describe_internal(op: Op) -> Doc {
    match op {
        Op::JobEvent => doc(
            "A gpu-host's job event",
            vec![(200, "Accepted", Some(r::<EventReply>()))],
        )
        .auth(Auth::Signed)
        .body(r::<JobEvent>())
        .errors(&[
            (404, "No such job"),
            (409, "Stale attempt or final job"),
            (422, "Invalid event"),
        ]),
        Op::HostReport => doc(
            "A gpu-host's report of itself (every few seconds)",
            vec![(200, "Recorded", Some(r::<bodies::Recorded>()))],
        )
        .auth(Auth::Signed)
        .body(r::<HostHeartbeat>())
        .errors(&[(422, "Invalid report")]),
        _ => doc(
            "Re-enqueue lost jobs, close stale deliveries",
            vec![(200, "What the sweep did", Some(r::<jobs::SweepReport>()))],
        )
        .auth(Auth::Signed),
    }
}

const ADMIN: [(u16, &str); 2] = [
    (403, "admin_id is not an admin"),
    (422, "admin_id is not a Telegram id"),
];

fn describe_payment(op: PaymentOp) -> Doc {
    match op {
        PaymentOp::Create => describe_payment_create(),
        PaymentOp::List => describe_payment_list(),
        PaymentOp::Get => doc(
            "One payment",
            vec![(200, "The payment", Some(r::<Payment>()))],
        )
        .errors(&[(404, "No such payment")]),
        PaymentOp::Refund => describe_refund(),
        PaymentOp::ForUser => doc(
            "A user's payments",
            vec![(200, "A page of payments", Some(r::<bodies::PaymentPage>()))],
        )
        .paged()
        .errors(&[NO_USER, BAD_USER_ID, BAD_PAGE]),
    }
}

fn describe_payment_create() -> Doc {
    doc(
        "Start a top-up; idempotent by idempotency_key",
        vec![
            (200, "Made earlier", Some(r::<checkout::Created>())),
            (201, "Created", Some(r::<checkout::Created>())),
        ],
    )
    .body(
        AllOfBuilder::new()
            .item(r::<checkout::NewPayment>())
            .item(
                OneOfBuilder::new()
                    .item(exactly_one_of_int("package", "amount"))
                    .item(exactly_one_of_int("amount", "package")),
            )
            .description(Some("Exactly one of package and amount"))
            .into(),
    )
    .errors(&[
        NO_USER,
        (409, "Conflicting payment"),
        (
            422,
            "Invalid payment: unknown package, amount outside the configured limits, neither or both of package and amount, method off",
        ),
        (502, "The provider refused"),
    ])
}

/// `schema`, or an empty value meaning "no filter" (as an HTML form sends a blank field).
fn or_empty(schema: RefOr<Schema>, description: &str) -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(schema)
        .item(string().max_length(Some(0)))
        .description(Some(format!("{description}; empty for no filter")))
        .into()
}

fn describe_payment_list() -> Doc {
    let ms = |d| or_empty(int64().into(), d);
    Doc {
        query: vec![
            ("status", or_empty(r::<PaymentStatus>(), "Only this status")),
            ("from", ms("Created at or after, Unix ms")),
            ("to", ms("Created before, Unix ms")),
            ("admin_id", int64().into()),
        ],
        ..doc(
            "Payments (admin)",
            vec![(
                200,
                "A page of payments",
                Some(r::<bodies::PaymentListing>()),
            )],
        )
    }
    .paged()
    .errors(&ADMIN)
    .errors(&[(422, "Invalid status, period, limit or offset")])
}

fn describe_refund() -> Doc {
    let body = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("admin_id", int64())
        .into();
    Doc {
        body: Some(body),
        ..doc(
            "Refund a payment (admin)",
            vec![(200, "Refunded", Some(r::<Payment>()))],
        )
    }
    .errors(&[
        (400, "Malformed JSON"),
        (404, "No such payment"),
        (409, "Not refundable"),
        (502, "The provider refused"),
    ])
    .errors(&ADMIN)
}

/// The body of `POST /api/reconciliations`: a UTC day, or a Unix ms range.
pub fn new_reconciliation_schema() -> RefOr<Schema> {
    use utoipa::openapi::schema::AdditionalProperties;
    let closed = || Some(AdditionalProperties::<Schema>::FreeForm(false));
    let day = string()
        .pattern(Some(r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"))
        .description(Some("A UTC day YYYY-MM-DD (a real date)"));
    let by_day = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("day", day)
        .required("day")
        .additional_properties(closed());
    let ms = |d| {
        int64()
            .minimum(Some(0.0))
            .maximum(Some(reconcile::MAX_TIME_MS as f64))
            .description(Some(d))
    };
    let by_range = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("from", ms("Start, Unix ms, inclusive"))
        .required("from")
        .property(
            "to",
            ms("End, Unix ms, exclusive: after from, at most 31 days later"),
        )
        .required("to")
        .additional_properties(closed());
    OneOfBuilder::new()
        .item(by_day)
        .item(by_range)
        .description(Some("Either day, or from and to"))
        .into()
}

const UPSTREAM: [(u16, &str); 2] = [
    (
        502,
        "YooKassa or Telegram refused (e.g. wrong credentials); nothing stored",
    ),
    (
        503,
        "YooKassa or Telegram is down or failing; nothing stored; payments unavailable",
    ),
];

fn describe_reconciliation(op: ReconcileOp) -> Doc {
    let report = || Some(r::<reconcile::Report>());
    let not_found = (404, "No such reconciliation or item");
    match op {
        ReconcileOp::Run => Doc {
            query: vec![("rerun", ObjectBuilder::new().schema_type(Type::Boolean).into())],
            ..doc(
                "Reconcile a range with YooKassa and Telegram Stars; the same range answers its stored report unless rerun",
                vec![(200, "The range's stored report", report()), (201, "A new report", report())],
            )
        }
        .body(new_reconciliation_schema())
        .errors(&[(422, "Invalid day or range (from < to, at most 31 days), or rerun not true/false")])
        .errors(&UPSTREAM),
        ReconcileOp::List => doc(
            "Reconciliation reports, newest first, with counts per kind",
            vec![(200, "A page of reports", Some(r::<bodies::ReportPage>()))],
        )
        .paged()
        .errors(&[BAD_PAGE]),
        ReconcileOp::Get => doc("One report with its items", vec![(200, "The report", report())])
            .errors(&[not_found]),
        ReconcileOp::Credit => doc(
            "Credit a missing_ours item now; idempotent (credited is false when it was credited before)",
            vec![(200, "Credited (now or before)", Some(r::<reconcile::Credited>()))],
        )
        .errors(&[not_found, (409, "Not creditable"), (422, "n is not an integer ≥ 0")])
        .errors(&UPSTREAM),
    }
}

fn error_schema() -> RefOr<Schema> {
    let inner = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("code", string())
        .required("code")
        .property("message", string())
        .required("message");
    object(&[("error", inner.into())])
}

fn json_response(desc: &str, schema: Option<RefOr<Schema>>) -> utoipa::openapi::Response {
    let b = ResponseBuilder::new().description(desc);
    match schema {
        Some(s) => b.content(
            "application/json",
            ContentBuilder::new().schema(Some(s)).build(),
        ),
        None => b,
    }
    .build()
}

fn text_response(desc: &str) -> utoipa::openapi::Response {
    let text = ContentBuilder::new().schema(Some(string())).build();
    ResponseBuilder::new()
        .description(desc)
        .content("text/plain", text)
        .build()
}

fn path_param(name: &str, op: Op) -> utoipa::openapi::path::Parameter {
    let schema: RefOr<Schema> = match (name, op) {
        ("telegram_id", _) => int_range(1, i64::MAX),
        ("n", Op::Reconciliations(_)) => int_range(0, i64::MAX),
        ("id", Op::CreatePreset | Op::UpdatePreset) => string()
            .pattern(Some("^(?!categories$)[a-z0-9_]{1,64}$"))
            .into(),
        _ => string().min_length(Some(1)).into(),
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(schema))
        .build()
}

fn query_param(name: &str, schema: RefOr<Schema>) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .schema(Some(schema))
        .build()
}

/// The statuses every operation of `auth` may answer besides its own.
fn common_errors(d: &Doc, op: Op) -> Vec<(u16, &'static str)> {
    let mut all = vec![(413, "Body larger than the limit")];
    if d.auth != Auth::None {
        all.push((401, "Missing or wrong credentials"));
        all.push((500, "Internal error"));
        all.push((503, "Storage or queue unavailable"));
    }
    if matches!(op, Op::Payments(PaymentOp::Create | PaymentOp::Refund)) {
        all.push((503, "Payments unavailable or the provider is down"));
    }
    all
}

/// The operation's id: its [`Op`] name (`CreateJob`, `PaymentsCreate`).
pub fn operation_id(op: Op) -> String {
    format!("{op:?}").replace(['(', ')'], "")
}

fn with_params(mut b: OperationBuilder, route_path: &str, op: Op, d: &Doc) -> OperationBuilder {
    for seg in route_path.split('/') {
        if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            b = b.parameter(path_param(name, op));
        }
    }
    for (name, schema) in &d.query {
        b = b.parameter(query_param(name, schema.clone()));
    }
    b
}

fn with_body(b: OperationBuilder, op: Op, d: &Doc) -> OperationBuilder {
    let Some(body) = &d.body else {
        return b;
    };
    let content = ContentBuilder::new().schema(Some(body.clone())).build();
    let required = if matches!(op, Op::Payments(PaymentOp::Refund)) {
        Required::False
    } else {
        Required::True
    };
    b.request_body(Some(
        RequestBodyBuilder::new()
            .content("application/json", content)
            .required(Some(required))
            .build(),
    ))
}

fn with_security(b: OperationBuilder, auth: Auth) -> OperationBuilder {
    let scheme = |name: &str| SecurityRequirement::new(name, Vec::<String>::new());
    match auth {
        Auth::None => b.securities(Some(Vec::<SecurityRequirement>::new())),
        Auth::Bearer => b.security(scheme("bearer")),
        Auth::Signed => b.security(scheme("gpuSignature")),
    }
}

/// Refusals by status; several reasons for one status are joined.
fn refusals(d: &Doc, op: Op) -> std::collections::BTreeMap<u16, String> {
    let mut by_status = std::collections::BTreeMap::<u16, String>::new();
    for (status, desc) in d.errors.iter().chain(common_errors(d, op).iter()) {
        let entry = by_status.entry(*status).or_default();
        if !entry.is_empty() {
            entry.push_str("; ");
        }
        entry.push_str(desc);
    }
    by_status
}

fn with_responses(mut b: OperationBuilder, op: Op, d: &Doc) -> OperationBuilder {
    for (status, desc, schema) in d.ok.iter().cloned() {
        let mut resp = match op {
            Op::Metrics => text_response(desc),
            _ => json_response(desc, schema),
        };
        resp.links = links(op, status);
        b = b.response(status.to_string(), resp);
    }
    for (status, desc) in refusals(d, op) {
        b = b.response(status.to_string(), json_response(&desc, Some(r_error())));
    }
    b
}

fn link(target: Op, params: &[(&str, &str)]) -> RefOr<Link> {
    let mut b = LinkBuilder::new().operation_id(operation_id(target));
    for (name, expr) in params {
        b = b.parameter(*name, *expr);
    }
    b.build().into()
}

/// Where a successful answer leads: the ids it returns name other operations' resources.
fn links(op: Op, status: u16) -> std::collections::BTreeMap<String, RefOr<Link>> {
    let (job, payment) = (
        [("id", "$response.body#/job_id")],
        [("id", "$response.body#/payment/id")],
    );
    let user = [("telegram_id", "$response.body#/telegram_id")];
    let targets: Vec<(Op, &[(&str, &str)])> = match (op, status) {
        (Op::CreateJob, 201) => vec![(Op::GetJob, &job), (Op::CancelJob, &job)],
        (Op::Payments(PaymentOp::Create), 200 | 201) => vec![
            (Op::Payments(PaymentOp::Get), &payment),
            (Op::Payments(PaymentOp::Refund), &payment),
        ],
        (Op::UpsertUser, 200 | 201) => vec![
            (Op::GetUser, &user),
            (Op::GetBalance, &user),
            (Op::UserJobs, &user),
        ],
        _ => Vec::new(),
    };
    targets
        .into_iter()
        .map(|(target, params)| (operation_id(target), link(target, params)))
        .collect()
}

fn operation(route_path: &str, op: Op) -> Operation {
    let d = describe(op);
    let b = OperationBuilder::new()
        .summary(Some(d.summary))
        .operation_id(Some(operation_id(op)));
    let b = with_params(b, route_path, op, &d);
    let b = with_security(with_body(b, op, &d), d.auth);
    with_responses(b, op, &d).build()
}

fn r_error() -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name("Error"))
}

fn method(m: &str) -> HttpMethod {
    match m {
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "DELETE" => HttpMethod::Delete,
        "PATCH" => HttpMethod::Patch,
        _ => HttpMethod::Get,
    }
}

fn components() -> utoipa::openapi::Components {
    let mut schemas = Vec::new();
    <qwen_core::profile::Profile as ToSchema>::schemas(&mut schemas);
    macro_rules! add {
        ($($t:ty),+) => {$(
            schemas.push((<$t as ToSchema>::name().into_owned(), <$t as PartialSchema>::schema()));
            <$t as ToSchema>::schemas(&mut schemas);
        )+};
    }
    add!(
        qwen_core::profile::Profile,
        users::UserInput,
        jobs::Job,
        NewJob,
        jobs::SweepReport,
        ledger::Entry,
        ledger::Posted
    );
    add!(
        presets::Preset,
        stats::Stats,
        Payment,
        checkout::NewPayment,
        checkout::Created,
        EventReply,
        JobEvent,
        JobStatus,
        PaymentStatus
    );
    add!(
        reconcile::Report,
        reconcile::Head,
        reconcile::Item,
        reconcile::Summary,
        reconcile::Credited,
        reconcile::ItemKind,
        reconcile::Provider
    );
    add!(
        bodies::JobPage,
        bodies::EntryPage,
        bodies::PaymentPage,
        bodies::PaymentListing,
        bodies::ReportPage,
        bodies::HealthBody,
        bodies::Balance,
        bodies::PresetList,
        bodies::CategoryList
    );
    add!(
        bodies::JobCreated,
        bodies::JobView,
        bodies::JobCancelled,
        bodies::Recorded,
        bodies::FleetView,
        bodies::NotificationOutcome
    );
    add!(
        qwen_core::backlog::QueueBacklog,
        qwen_core::fleet::Fleet,
        qwen_core::fleet::Wait,
        qwen_core::contract::HostHeartbeat
    );
    let bearer = HttpBuilder::new()
        .scheme(HttpAuthScheme::Bearer)
        .description(Some("The api_token Spin variable"))
        .build();
    let signed = ApiKey::Header(ApiKeyValue::with_description(
        "x-qwen-signature",
        "v2=hex(HMAC-SHA256(gpu_event_secret, timestamp + LF + METHOD + LF + path + LF + body)); the Unix timestamp in x-qwen-timestamp, at most 300 s off",
    ));
    ComponentsBuilder::new()
        .schemas_from_iter(schemas)
        .schema("Error", error_schema())
        .security_scheme("bearer", SecurityScheme::Http(bearer))
        .security_scheme("gpuSignature", SecurityScheme::ApiKey(signed))
        .build()
}

/// The document: one path item per distinct route path, one operation per route.
pub fn document() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for route in ROUTES {
        paths = paths.path(
            route.path,
            PathItem::new(method(route.method), operation(route.path, route.op)),
        );
    }
    let info = InfoBuilder::new()
        .title("QwenEditBot API")
        .version("1.0.0")
        .description(Some("The REST face of QwenEditBot's core. Errors are JSON {\"error\":{\"code\",\"message\"}}."))
        .build();
    OpenApiBuilder::new()
        .info(info)
        .paths(paths.build())
        .components(Some(components()))
        .build()
}

/// The document as JSON.
pub fn json() -> String {
    let Ok(mut doc) = serde_json::to_value(document()) else {
        return String::from("{}");
    };
    camel_case_links(&mut doc);
    doc.to_string()
}

/// utoipa 5 writes a link's fields in snake case (`operation_id`); OpenAPI spells them
/// `operationId`, `operationRef`, `requestBody`.
fn camel_case_links(doc: &mut serde_json::Value) {
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    let responses = paths
        .values_mut()
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut())
        .filter_map(|op| op.get_mut("responses").and_then(|r| r.as_object_mut()));
    for resp in responses.flat_map(|r| r.values_mut()) {
        let links = resp.get_mut("links").and_then(|l| l.as_object_mut());
        for link in links.into_iter().flat_map(|l| l.values_mut()) {
            let Some(fields) = link.as_object_mut() else {
                continue;
            };
            for (snake, camel) in [
                ("operation_id", "operationId"),
                ("operation_ref", "operationRef"),
                ("request_body", "requestBody"),
            ] {
                if let Some(v) = fields.remove(snake) {
                    fields.insert(camel.into(), v);
                }
            }
        }
    }
}
