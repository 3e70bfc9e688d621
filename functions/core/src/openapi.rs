//! The OpenAPI 3.1 document served at `GET /api/openapi.json`, generated from the route
//! table ([`crate::rest::ROUTES`]) and the request/response types (`utoipa::ToSchema`).
//! Every operation is described by [`describe`], an exhaustive match on [`Op`]: a route
//! added to the table without a description does not compile, and the tests check that
//! the document lists every route with its method.

use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, KnownFormat, OpenApi, OpenApiBuilder, PathItem,
    PathsBuilder, Ref, RefOr, Required, ResponseBuilder, SchemaFormat,
};
use utoipa::{PartialSchema, ToSchema};

use crate::contract::{EventReply, JobEvent, JobStatus};
use crate::payments::api::PaymentOp;
use crate::payments::{Payment, PaymentStatus, ops};
use crate::rest::{Op, ROUTES};
use crate::{jobs, ledger, presets, stats, users};

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

fn int64() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
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

fn array(items: RefOr<Schema>) -> RefOr<Schema> {
    ArrayBuilder::new().items(items).into()
}

fn page_of(items: RefOr<Schema>) -> RefOr<Schema> {
    object(&[
        ("items", array(items)),
        ("total", int64().into()),
        ("limit", int_range(1, MAX_LIMIT)),
        ("offset", int_range(0, i64::MAX)),
    ])
}

fn items_of(items: RefOr<Schema>) -> RefOr<Schema> {
    object(&[("items", array(items))])
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

/// The body of `POST`/`PUT /api/presets/{id}` (the id comes from the path).
pub fn preset_input_schema() -> RefOr<Schema> {
    let text = || string();
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("category", non_blank(64))
        .required("category")
        .property("name_ru", non_blank(256))
        .required("name_ru")
        .property("name_en", non_blank(256))
        .required("name_en")
        .property("description_ru", text())
        .property("description_en", text())
        .property("prompt", non_blank(presets::MAX_PROMPT_CHARS))
        .required("prompt")
        .property("cost", int_range(0, i64::MAX))
        .required("cost")
        .property("sort", int64())
        .into()
}

fn health_schema() -> RefOr<Schema> {
    let word = |words: &[&'static str]| string().enum_values(Some(words.iter().copied()));
    object(&[
        ("status", word(&["ok", "degraded"]).into()),
        ("database", word(&["ok", "unavailable"]).into()),
        ("queue", word(&["ok", "unavailable"]).into()),
    ])
}

fn job_with_position() -> RefOr<Schema> {
    utoipa::openapi::schema::AllOfBuilder::new()
        .item(r::<jobs::Job>())
        .item(object(&[("queue_position", int64().into())]))
        .into()
}

fn job_created() -> RefOr<Schema> {
    object(&[
        ("job_id", string().into()),
        ("status", r::<JobStatus>()),
        ("cost", int64().into()),
        ("balance_after", int64().into()),
        ("queue_position", int64().into()),
        ("job", r::<jobs::Job>()),
    ])
}

fn category_count() -> RefOr<Schema> {
    object(&[
        ("id", string().into()),
        ("name_ru", string().into()),
        ("name_en", string().into()),
        ("sort", int64().into()),
        ("presets", int64().into()),
    ])
}

/// What the document says about `op`. Exhaustive: a new operation needs its description.
pub fn describe(op: Op) -> Doc {
    match op {
        Op::Health => doc(
            "Database and queue health",
            vec![(200, "Healthy", Some(health_schema()))],
        )
        .auth(Auth::None)
        .errors(&[(503, "Database or queue unavailable")]),
        Op::OpenApi => {
            doc("This document", vec![(200, "The OpenAPI document", None)]).auth(Auth::None)
        }
        Op::UpsertUser => doc(
            "Register or update a user",
            vec![
                (200, "Updated", Some(r::<users::Profile>())),
                (201, "Created", Some(r::<users::Profile>())),
            ],
        )
        .body(r::<users::UserInput>())
        .errors(&[(422, "Invalid user")]),
        Op::GetUser => doc(
            "A user's profile",
            vec![(200, "The profile", Some(r::<users::Profile>()))],
        )
        .errors(&[(404, "No such user"), (422, "Invalid telegram_id")]),
        Op::UserJobs => doc(
            "A user's jobs, newest first",
            vec![(200, "A page of jobs", Some(page_of(r::<jobs::Job>())))],
        )
        .paged()
        .errors(&[(404, "No such user"), (422, "Invalid telegram_id")]),
        Op::GetBalance => doc(
            "A user's balance",
            vec![(
                200,
                "The balance",
                Some(object(&[
                    ("telegram_id", int64().into()),
                    ("balance", int64().into()),
                ])),
            )],
        )
        .errors(&[(404, "No such user"), (422, "Invalid telegram_id")]),
        Op::BalanceHistory => doc(
            "A user's ledger, newest first",
            vec![(
                200,
                "A page of entries",
                Some(page_of(r::<ledger::Entry>())),
            )],
        )
        .paged()
        .errors(&[(404, "No such user"), (422, "Invalid telegram_id")]),
        Op::AdjustBalance => doc(
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
            (404, "No such user"),
            (422, "Invalid adjustment"),
        ]),
        Op::ListPresets => Doc {
            query: vec![("category", string().into())],
            ..doc(
                "Presets, optionally of one category",
                vec![(200, "The presets", Some(items_of(r::<presets::Preset>())))],
            )
        },
        Op::Categories => doc(
            "Preset categories with preset counts",
            vec![(200, "The categories", Some(items_of(category_count())))],
        ),
        Op::GetPreset => doc(
            "One preset",
            vec![(200, "The preset", Some(r::<presets::Preset>()))],
        )
        .errors(&[(404, "No such preset")]),
        Op::CreatePreset => doc(
            "Create a preset",
            vec![(201, "Created", Some(r::<presets::Preset>()))],
        )
        .body(preset_input_schema())
        .errors(&[
            (409, "The preset exists"),
            (422, "Invalid preset or unknown category"),
        ]),
        Op::UpdatePreset => doc(
            "Replace a preset",
            vec![(200, "Updated", Some(r::<presets::Preset>()))],
        )
        .body(preset_input_schema())
        .errors(&[
            (404, "No such preset"),
            (422, "Invalid preset or unknown category"),
        ]),
        Op::DeletePreset => {
            doc("Delete a preset", vec![(204, "Deleted", None)]).errors(&[(404, "No such preset")])
        }
        Op::CreateJob => doc(
            "Create an edit: charge, store, enqueue",
            vec![(201, "Created and queued", Some(job_created()))],
        )
        .body(r::<jobs::NewJob>())
        .errors(&[
            (402, "Balance too low"),
            (404, "No such user or preset"),
            (422, "Invalid job"),
        ]),
        Op::GetJob => doc(
            "A job with its queue position",
            vec![(200, "The job", Some(job_with_position()))],
        )
        .errors(&[(404, "No such job")]),
        Op::CancelJob => doc(
            "Cancel a queued job and refund it",
            vec![(
                200,
                "Cancelled",
                Some(object(&[
                    ("job", r::<jobs::Job>()),
                    ("refunded", int64().into()),
                    ("balance", int64().into()),
                ])),
            )],
        )
        .errors(&[(404, "No such job"), (409, "The job is not queued")]),
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
        Op::Sweep => doc(
            "Re-enqueue lost jobs, close stale deliveries",
            vec![(200, "What the sweep did", Some(r::<jobs::SweepReport>()))],
        )
        .auth(Auth::Signed),
        Op::Stats => doc(
            "Today's numbers",
            vec![(200, "The statistics", Some(r::<stats::Stats>()))],
        ),
        Op::Payments(p) => describe_payment(p),
    }
}

fn payment_list() -> RefOr<Schema> {
    let totals: RefOr<Schema> = ObjectBuilder::new().schema_type(Type::Object).into();
    object(&[
        ("items", array(r::<Payment>())),
        ("total", int64().into()),
        ("totals", array(totals)),
        ("limit", int_range(1, MAX_LIMIT)),
        ("offset", int_range(0, i64::MAX)),
    ])
}

fn describe_payment(op: PaymentOp) -> Doc {
    let admin = &[
        (403, "admin_id is not an admin"),
        (422, "admin_id is not a Telegram id"),
    ];
    match op {
        PaymentOp::Create => doc(
            "Start a top-up; idempotent by idempotency_key",
            vec![
                (200, "Made earlier", Some(r::<ops::Created>())),
                (201, "Created", Some(r::<ops::Created>())),
            ],
        )
        .body(r::<ops::NewPayment>())
        .errors(&[
            (404, "No such user"),
            (409, "Conflicting payment"),
            (422, "Invalid payment"),
            (502, "The provider refused"),
        ]),
        PaymentOp::List => Doc {
            query: vec![
                ("status", r::<PaymentStatus>()),
                ("from", int64().description(Some("Unix ms")).into()),
                ("to", int64().description(Some("Unix ms")).into()),
                ("admin_id", int64().into()),
            ],
            ..doc(
                "Payments (admin)",
                vec![(200, "A page of payments", Some(payment_list()))],
            )
        }
        .paged()
        .errors(admin),
        PaymentOp::Get => doc(
            "One payment",
            vec![(200, "The payment", Some(r::<Payment>()))],
        )
        .errors(&[(404, "No such payment")]),
        PaymentOp::Refund => Doc {
            body: Some(
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .property("admin_id", int64())
                    .into(),
            ),
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
        .errors(admin),
        PaymentOp::ForUser => doc(
            "A user's payments",
            vec![(200, "A page of payments", Some(page_of(r::<Payment>())))],
        )
        .paged()
        .errors(&[(404, "No such user"), (422, "Invalid telegram_id")]),
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

fn path_param(name: &str, op: Op) -> utoipa::openapi::path::Parameter {
    let schema: RefOr<Schema> = match (name, op) {
        ("telegram_id", _) => int_range(1, i64::MAX),
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

fn operation(route_path: &str, op: Op) -> Operation {
    let d = describe(op);
    let mut b = OperationBuilder::new().summary(Some(d.summary));
    for seg in route_path.split('/') {
        if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            b = b.parameter(path_param(name, op));
        }
    }
    for (name, schema) in &d.query {
        b = b.parameter(query_param(name, schema.clone()));
    }
    if let Some(body) = &d.body {
        let content = ContentBuilder::new().schema(Some(body.clone())).build();
        let required = if matches!(op, Op::Payments(PaymentOp::Refund)) {
            Required::False
        } else {
            Required::True
        };
        b = b.request_body(Some(
            RequestBodyBuilder::new()
                .content("application/json", content)
                .required(Some(required))
                .build(),
        ));
    }
    b = match d.auth {
        Auth::None => b.securities(Some(Vec::<SecurityRequirement>::new())),
        Auth::Bearer => b.security(SecurityRequirement::new("bearer", Vec::<String>::new())),
        Auth::Signed => b.security(SecurityRequirement::new(
            "gpuSignature",
            Vec::<String>::new(),
        )),
    };
    for (status, desc, schema) in d.ok.iter().cloned() {
        b = b.response(status.to_string(), json_response(desc, schema));
    }
    for (status, desc) in d.errors.iter().chain(common_errors(&d, op).iter()) {
        b = b.response(status.to_string(), json_response(desc, Some(r_error())));
    }
    b.build()
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
    <users::Profile as ToSchema>::schemas(&mut schemas);
    macro_rules! add {
        ($($t:ty),+) => {$(
            schemas.push((<$t as ToSchema>::name().into_owned(), <$t as PartialSchema>::schema()));
            <$t as ToSchema>::schemas(&mut schemas);
        )+};
    }
    add!(
        users::Profile,
        users::UserInput,
        jobs::Job,
        jobs::NewJob,
        jobs::SweepReport,
        ledger::Entry,
        ledger::Posted
    );
    add!(
        presets::Preset,
        stats::Stats,
        Payment,
        ops::NewPayment,
        ops::Created,
        EventReply,
        JobEvent,
        JobStatus,
        PaymentStatus
    );
    let bearer = HttpBuilder::new()
        .scheme(HttpAuthScheme::Bearer)
        .description(Some("The api_token Spin variable"))
        .build();
    let signed = ApiKey::Header(ApiKeyValue::with_description(
        "x-qwen-signature",
        "v1=hex(HMAC-SHA256(gpu_event_secret, timestamp + '.' + body)); the Unix timestamp in x-qwen-timestamp, at most 300 s off",
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
    document().to_json().unwrap_or_else(|_| String::from("{}"))
}
