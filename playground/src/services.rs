//! Starting the pieces: Redis, the stand-ins, `spin up` on the project's manifest (through the
//! testkit's Spin harness) with the operator console on, the webhook and command menu, and a
//! real `gpu-host`.

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use testkit::edge::random_alnum;
use testkit::fakes::comfyui::{EditRequest, Editor, FakeComfy};
use testkit::fakes::telegram::FakeTelegram;
use testkit::fakes::yookassa::{FakeYooKassa, SHOP_ID};
use testkit::spin::{RedisServer, SpinApp, SpinOptions};

use crate::chat::{ConsoleLink, Hub, SimUser};
use crate::editor::{self, Operation};
use crate::operator::ConsoleAccess;
use testkit::spin::GpuHost;

/// Command-line options of `cargo run -p playground`.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    version,
    about = "The whole bot on 127.0.0.1: real edge, real gpu-host, stand-ins for Telegram, YooKassa and ComfyUI"
)]
pub struct Options {
    /// Port of the chat page on 127.0.0.1 (0: any free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Redis to use when it answers; otherwise a private `redis-server` is started.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,
    /// A real ComfyUI instead of the stand-in.
    #[arg(long)]
    pub comfyui_url: Option<String>,
    /// How long one edit takes on the stand-in ComfyUI, in milliseconds.
    #[arg(long, default_value_t = 6000)]
    pub edit_ms: u64,
    /// Progress events per edit on the stand-in ComfyUI.
    #[arg(long, default_value_t = 10)]
    pub edit_steps: u64,
    /// Workflow of every job (default: `qwen_edit_2511`, the production graph with its three
    /// image slots, on the stand-in and on a real ComfyUI that has its model files;
    /// `model_free` on a real ComfyUI without them).
    #[arg(long)]
    pub workflow: Option<String>,
    /// Where the stand-in ComfyUI keeps its `input/` and `output/` files, which the gpu-host
    /// deletes once a job is over (default: a new temporary directory, removed at shutdown).
    #[arg(long)]
    pub comfy_files: Option<std::path::PathBuf>,
    /// The gpu-host's `RETENTION_SECS` for leftovers in those directories.
    #[arg(long, default_value_t = 60)]
    pub retention_secs: u64,
}

/// The processes the playground started, stopped by [`crate::Playground::shutdown`].
pub struct Stack {
    /// The gpu-host.
    pub gpu: Option<GpuHost>,
    /// `spin up`.
    pub spin: SpinApp,
    /// The private Redis, when `--redis-url` did not answer.
    pub redis: Option<RedisServer>,
    /// The stand-in ComfyUI's files directory the playground created (removed at shutdown).
    pub comfy_files: Option<std::path::PathBuf>,
}

/// The simulated users: an admin and customers speaking Russian and English.
pub fn users() -> Vec<SimUser> {
    vec![
        SimUser::new(700_001, "Olga", "olga_admin", "ru", true),
        SimUser::new(700_002, "Anna", "anna", "ru", false),
        SimUser::new(700_003, "John", "john", "en", false),
    ]
}

/// Starts everything behind the chat page at `page_url`.
pub async fn start(opts: &Options, page_url: &str) -> Result<(Stack, Hub), String> {
    let spin_bin = testkit::spin::find_spin().ok_or_else(|| testkit::spin::MISSING.to_owned())?;
    let (redis_url, redis) = redis(&opts.redis_url).await?;
    let secrets = Secrets::random();
    let outside = Outside::start(opts, page_url, &secrets).await;
    let workflow = match &opts.workflow {
        Some(w) => w.clone(),
        None => pick_workflow(opts.comfyui_url.as_deref()).await,
    };
    let (gpu_bin, access) = build().await?;
    let run = Run {
        secrets,
        redis_url,
        stream: format!("playground:{}:jobs", random_alnum(8)),
        workflow,
    };
    let spin = start_edge(&spin_bin, &run, &outside, page_url, &access).await?;
    tracing::info!(
        run.workflow,
        comfyui = outside.comfy_url,
        "starting gpu-host"
    );
    let mut env = gpu_env(&run, &outside, &spin, opts.retention_secs);
    env.push(("CONSUMER_NAME", "playground-gpu".to_owned()));
    let gpu = GpuHost::try_start_with(&gpu_bin, &env)?;
    let console = ConsoleLink::new(&spin.url("/console/"), access);
    let banner = banner(opts, &outside.comfy_url, &run.workflow);
    let (hub, files) = outside.into_hub(spin.base_url.clone(), banner, console);
    let stack = Stack {
        gpu: Some(gpu),
        spin,
        redis,
        comfy_files: files.filter(|_| opts.comfy_files.is_none()),
    };
    Ok((stack, hub))
}

/// What this run's edge and gpu-host share.
struct Run {
    secrets: Secrets,
    redis_url: String,
    /// The jobs stream, new for each run.
    stream: String,
    workflow: String,
}

/// `spin up` with the console on, its webhook and command menu registered, and the
/// stand-in ComfyUI's editor pointed at it.
async fn start_edge(
    spin_bin: &std::path::Path,
    run: &Run,
    outside: &Outside,
    page_url: &str,
    access: &ConsoleAccess,
) -> Result<SpinApp, String> {
    let vars = access.variables().iter().fold(
        spin_options(run, outside, page_url),
        |vars, (name, value)| vars.var(name, value),
    );
    tracing::info!("starting spin up (the real edge)");
    let spin = SpinApp::try_start(spin_bin, vars).await?;
    register_webhook(&outside.tg, &spin, &run.secrets).await?;
    if let Some(c) = &outside.comfy {
        c.set_editor(editor_for(&spin.base_url, &run.secrets.api_token));
    }
    Ok(spin)
}

/// The stand-ins of the outside services.
struct Outside {
    tg: FakeTelegram,
    yk: FakeYooKassa,
    comfy: Option<FakeComfy>,
    comfy_url: String,
    /// The stand-in ComfyUI's files directory (`input/`, `output/`).
    files: Option<std::path::PathBuf>,
}

impl Outside {
    async fn start(opts: &Options, page_url: &str, secrets: &Secrets) -> Outside {
        let tg = FakeTelegram::start_with_token(&secrets.bot_token).await;
        let yk = FakeYooKassa::start_with(SHOP_ID, &secrets.yookassa_key);
        yk.set_checkout_url(&format!("{page_url}checkout"));
        let files = opts.comfyui_url.is_none().then(|| comfy_files(opts));
        let comfy = match &files {
            Some(dir) => Some(stand_in_comfy(opts, dir).await),
            None => None,
        };
        let comfy_url = opts
            .comfyui_url
            .clone()
            .or_else(|| comfy.as_ref().map(FakeComfy::url))
            .unwrap_or_default();
        Outside {
            tg,
            yk,
            comfy,
            comfy_url,
            files,
        }
    }

    /// The chat page's hub over these stand-ins, and the stand-in ComfyUI's directory.
    fn into_hub(
        self,
        edge_url: String,
        banner: String,
        console: ConsoleLink,
    ) -> (Hub, Option<std::path::PathBuf>) {
        let hub = Hub::new(
            self.tg,
            self.yk,
            self.comfy,
            edge_url,
            users(),
            banner,
            console,
        );
        (hub, self.files)
    }
}

/// The edge's variables: the stand-ins, Redis, the admin, YooKassa allowed from 127.0.0.1.
fn spin_options(run: &Run, out: &Outside, page_url: &str) -> SpinOptions {
    let s = &run.secrets;
    let admins: Vec<String> = users()
        .iter()
        .filter(|u| u.admin)
        .map(|u| u.id.to_string())
        .collect();
    SpinOptions::default()
        .var("api_token", &s.api_token)
        .var("gpu_event_secret", &s.gpu_secret)
        .var("telegram_bot_token", &s.bot_token)
        .var("telegram_webhook_secret", &s.webhook_secret)
        .var("telegram_api_url", out.tg.base_url())
        .var("yookassa_shop_id", SHOP_ID)
        .var("yookassa_secret_key", &s.yookassa_key)
        .var("yookassa_api_url", out.yk.base_url())
        .var("yookassa_return_link", page_url)
        .var("yookassa_allowed_ips", "127.0.0.1/32")
        .var("redis_url", &run.redis_url)
        .var("jobs_stream", &run.stream)
        .var("admin_ids", admins.join(","))
        .var("default_workflow", &run.workflow)
}

/// The gpu-host's environment: the same Redis stream, ComfyUI, the Telegram stand-in, the edge.
fn gpu_env(
    run: &Run,
    out: &Outside,
    spin: &SpinApp,
    retention_secs: u64,
) -> Vec<(&'static str, String)> {
    let s = &run.secrets;
    let mut env = vec![
        ("REDIS_URL", run.redis_url.clone()),
        ("JOBS_STREAM", run.stream.clone()),
        ("COMFYUI_URL", out.comfy_url.clone()),
        ("TELEGRAM_API_URL", out.tg.base_url()),
        ("TELEGRAM_BOT_TOKEN", s.bot_token.clone()),
        ("API_BASE_URL", spin.base_url.clone()),
        ("GPU_EVENT_SECRET", s.gpu_secret.clone()),
        ("CONSUMER_NAME", "playground-gpu".to_owned()),
    ];
    if let Some(dir) = &out.files {
        env.extend(retention_env(dir, retention_secs));
    }
    env
}

/// The gpu-host's retention over the stand-in ComfyUI's directories under `dir`.
pub fn retention_env(dir: &std::path::Path, retention_secs: u64) -> Vec<(&'static str, String)> {
    vec![
        ("COMFY_INPUT_DIR", dir.join("input").display().to_string()),
        ("COMFY_OUTPUT_DIR", dir.join("output").display().to_string()),
        ("RETENTION_SECS", retention_secs.to_string()),
    ]
}

fn banner(opts: &Options, comfy_url: &str, workflow: &str) -> String {
    match &opts.comfyui_url {
        None => format!(
            "ComfyUI here is a STAND-IN, not Qwen-Image-Edit: it speaks ComfyUI's protocol and \
             applies a simple filter chosen by the preset (sepia, pencil edges, tints…) in about \
             {:.1} s; an album's other photos appear as insets. Workflow: {workflow}.",
            opts.edit_ms as f64 / 1000.0
        ),
        Some(_) => format!("ComfyUI: the real one at {comfy_url}. Workflow: {workflow}."),
    }
}

/// The random secrets of this run.
struct Secrets {
    api_token: String,
    gpu_secret: String,
    bot_token: String,
    webhook_secret: String,
    yookassa_key: String,
}

impl Secrets {
    fn random() -> Secrets {
        Secrets {
            api_token: format!("pgapi{}", random_alnum(27)),
            gpu_secret: format!("pggpu{}", random_alnum(27)),
            bot_token: format!("7000000001:AA{}", random_alnum(33)),
            webhook_secret: format!("pg_{}", random_alnum(29)),
            yookassa_key: format!("test_{}", random_alnum(38)),
        }
    }
}

/// `url` when a Redis answers there, else a private `redis-server` on a free port.
async fn redis(url: &str) -> Result<(String, Option<RedisServer>), String> {
    if ping(url).await {
        tracing::info!(url, "using the running Redis");
        return Ok((url.to_owned(), None));
    }
    tracing::info!(
        url,
        "no Redis answers there: starting a private redis-server"
    );
    let server = RedisServer::try_start().await.map_err(|e| {
        format!("{e}\n(install Redis 7: `apt-get install redis-server`, or pass --redis-url)")
    })?;
    Ok((server.url(), Some(server)))
}

async fn ping(url: &str) -> bool {
    let attempt = async {
        let client = redis::Client::open(url).ok()?;
        let mut conn = client.get_multiplexed_async_connection().await.ok()?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .ok()
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), attempt).await,
        Ok(Some(_))
    )
}

/// Builds the components and the gpu-host when stale (answering the gpu-host's path) and,
/// meanwhile, the console operator's password hash; off the async threads.
async fn build() -> Result<(std::path::PathBuf, ConsoleAccess), String> {
    tracing::info!("building the Spin components and gpu-host when stale");
    let access = tokio::task::spawn_blocking(ConsoleAccess::random);
    let gpu = tokio::task::spawn_blocking(|| {
        testkit::spin::try_build_components()?;
        testkit::spin::try_gpu_host_binary()
    })
    .await
    .map_err(|e| format!("the build task failed: {e}"))??;
    let access = access
        .await
        .map_err(|e| format!("the password task failed: {e}"))?;
    Ok((gpu, access))
}

/// The stand-in ComfyUI's files directory: `--comfy-files`, or a new one under the
/// system's temporary directory.
fn comfy_files(opts: &Options) -> std::path::PathBuf {
    opts.comfy_files.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("playground-comfyui-{}", random_alnum(8)))
    })
}

/// The stand-in ComfyUI, keeping its files under `files` as ComfyUI's `input/` and
/// `output/` directories.
async fn stand_in_comfy(opts: &Options, files: &std::path::Path) -> FakeComfy {
    let comfy = FakeComfy::start().await;
    comfy.set_dirs(&files.join("input"), &files.join("output"));
    comfy.set_run_time(Duration::from_millis(opts.edit_ms));
    comfy.set_steps(opts.edit_steps);
    comfy
}

/// `qwen_edit_2511` for the stand-in (which knows its nodes and takes its three image
/// slots, so albums work) and for a ComfyUI at `url` that lists the Qwen diffusion model,
/// else `model_free`.
async fn pick_workflow(url: Option<&str>) -> String {
    let Some(url) = url else {
        return "qwen_edit_2511".to_owned();
    };
    let listed = async {
        let r = reqwest::get(format!("{url}/models/diffusion_models"))
            .await
            .ok()?;
        r.text().await.ok()
    };
    match tokio::time::timeout(Duration::from_secs(5), listed).await {
        Ok(Some(body)) if body.contains("qwen_image_edit_2511") => "qwen_edit_2511".to_owned(),
        _ => "model_free".to_owned(),
    }
}

/// `setWebhook` (URL and secret) and `setMyCommands` (ru, en, default), as the deployer's
/// `set-webhook` does, on the Telegram stand-in.
async fn register_webhook(tg: &FakeTelegram, spin: &SpinApp, s: &Secrets) -> Result<(), String> {
    let http = botapi::ReqwestHttp::new();
    let api = botapi::BotApi::new(tg.base_url(), s.bot_token.clone(), &http);
    let hook = botapi::SetWebhook {
        url: spin.url("/telegram/webhook"),
        secret_token: Some(s.webhook_secret.clone()),
        allowed_updates: Some(
            bot::commands::ALLOWED_UPDATES
                .iter()
                .map(|u| (*u).to_owned())
                .collect(),
        ),
        drop_pending_updates: None,
        max_connections: None,
    };
    let fail = |e: botapi::BotApiError| format!("cannot register the webhook: {e}");
    api.set_webhook(&hook).await.map_err(fail)?;
    use bot::i18n::Lang;
    for (lang, default_list) in [(Lang::Ru, true), (Lang::Ru, false), (Lang::En, false)] {
        let req = bot::commands::set_my_commands(lang, default_list);
        api.set_my_commands(&req).await.map_err(fail)?;
    }
    Ok(())
}

/// The stand-in's editor: looks the job up on the edge (its id is in the output prefix
/// `qwen_edit/<job id>`) and applies its preset's operation to the input images (the first
/// one, with the others laid in as insets: [`editor::edit_all`]).
fn editor_for(edge_url: &str, api_token: &str) -> Editor {
    let edge = edge_url.to_owned();
    let token = api_token.to_owned();
    let http = reqwest::Client::new();
    Arc::new(move |req: EditRequest| {
        let (edge, token, http) = (edge.clone(), token.clone(), http.clone());
        async move {
            let preset = job_preset(&http, &edge, &token, &req.graph).await;
            let op = Operation::for_preset(preset.as_deref());
            tracing::info!(
                prompt_id = req.prompt_id,
                preset,
                op = op.name(),
                "stand-in edit"
            );
            let first = req.inputs.first().cloned().unwrap_or_default();
            let inputs = req.inputs;
            tokio::task::spawn_blocking(move || editor::edit_all(&inputs, op))
                .await
                .ok()
                .flatten()
                .unwrap_or(first)
        }
        .boxed()
    })
}

/// The preset of the job whose graph this is (`None`: a custom prompt or unknown).
async fn job_preset(
    http: &reqwest::Client,
    edge: &str,
    token: &str,
    graph: &serde_json::Value,
) -> Option<String> {
    let prefix = graph
        .as_object()?
        .values()
        .find(|n| n["class_type"] == "SaveImage")?["inputs"]["filename_prefix"]
        .as_str()?
        .to_owned();
    let job_id = prefix.rsplit('/').next()?;
    let resp = http
        .get(format!("{edge}/api/jobs/{job_id}"))
        .bearer_auth(token)
        .send()
        .await
        .ok()?;
    let job: serde_json::Value = resp.json().await.ok()?;
    job["preset_id"].as_str().map(str::to_owned)
}
