//! The jobs stream: a Redis Streams consumer group.
//!
//! New entries come from a blocking `XREADGROUP` on a dedicated connection; entries left
//! pending by a silent host are taken over with `XAUTOCLAIM` after the visibility timeout.
//! The attempt number of a run is the entry's delivery count. While a host works on an entry
//! it renews its claim with `XCLAIM … JUSTID` (which does not count as a delivery) — but only
//! while it still owns the entry, checked atomically in a script, so a stale host never steals
//! an entry back. `XACK` likewise acks only an entry this consumer owns.
//!
//! Redis stays bounded from the host's side: after each ack the stream is trimmed of what
//! every consumer group has consumed and acked ([`TRIM_LUA`]); the dead-letter stream is
//! capped (`MAXLEN ~`) and expires when nothing is added to it for [`DEAD_LETTER_TTL_SECS`];
//! a stream that expired (the edge gives it a TTL) is met with `NOGROUP`, and the group is
//! created again; consumers left behind by earlier rollouts are deleted at start.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use qwen_contract::JOB_FIELD;
use qwen_contract::signing::JOB_SIG_FIELD;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::{StreamAutoClaimReply, StreamPendingCountReply, StreamReadReply};

/// Renews the claim only if `ARGV[2]` still owns entry `ARGV[3]`.
const HEARTBEAT_LUA: &str = r#"
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #p == 0 or p[1][2] ~= ARGV[2] then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
"#;

/// Acks entry `ARGV[3]` only if `ARGV[2]` owns it.
const ACK_LUA: &str = r#"
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #p == 0 or p[1][2] ~= ARGV[2] then return 0 end
return redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
"#;

/// Trims stream `KEYS[1]` of what every consumer group has consumed and acked: the bound is
/// the smallest, over the groups, of the group's oldest pending id or (nothing pending) its
/// `last-delivered-id`; entries below it are removed with an exact `XTRIM MINID` (the stream
/// holds a few entries, so exactness costs nothing, and after a drain only the last delivered
/// entry stays). An unread or pending entry is never below the bound; with no stream or no
/// group nothing is trimmed.
/// Returns the bound (`""` when nothing was trimmed).
pub const TRIM_LUA: &str = r#"
local function older(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
if redis.call('EXISTS', KEYS[1]) == 0 then return '' end
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
if #groups == 0 then return '' end
local bound = nil
for _, g in ipairs(groups) do
  local f = {}
  for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
  local mark = f['last-delivered-id']
  if f['pending'] > 0 then
    mark = redis.call('XPENDING', KEYS[1], f['name'])[2]
  end
  if bound == nil or older(mark, bound) then bound = mark end
end
redis.call('XTRIM', KEYS[1], 'MINID', bound)
return bound
"#;

/// Deletes the consumers of group `ARGV[1]` on stream `KEYS[1]` that hold no pending entry
/// and have been idle longer than `ARGV[2]` ms, except `ARGV[3]` (this host); checked and
/// deleted in one step, so a consumer that just took an entry is never deleted with it.
/// Returns how many were deleted.
const PRUNE_CONSUMERS_LUA: &str = r#"
local deleted = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local f = {}
  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
  if f['name'] ~= ARGV[3] and f['pending'] == 0 and f['idle'] > tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])
    deleted = deleted + 1
  end
end
return deleted
"#;

/// Default cap of the dead-letter stream (`DEAD_LETTER_MAX`).
pub const DEAD_LETTER_MAX: u64 = 10_000;
/// The dead-letter stream's time to live, refreshed on each add: 30 days.
pub const DEAD_LETTER_TTL_SECS: u64 = 30 * 24 * 3600;
/// Consumers idle this long with nothing pending are deleted at start: a week.
pub const STALE_CONSUMER_IDLE: Duration = Duration::from_secs(7 * 24 * 3600);

/// Errors talking to Redis.
#[derive(Debug, thiserror::Error)]
#[error("redis: {0}")]
pub struct QueueError(#[from] pub redis::RedisError);

impl crate::retry::Retryable for QueueError {
    fn is_retryable(&self) -> bool {
        true
    }
}

/// One delivery of a stream entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Stream entry id.
    pub id: String,
    /// The `job` field, if present.
    pub job: Option<String>,
    /// The `sig` field (the edge's signature of `job`), if present.
    pub sig: Option<String>,
    /// How often the entry has been delivered (the run's attempt number).
    pub deliveries: u32,
}

impl Entry {
    /// Milliseconds since the entry was added (from its id).
    pub fn age_ms(&self, now_ms: i64) -> i64 {
        let added: i64 = self
            .id
            .split('-')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(now_ms);
        (now_ms - added).max(0)
    }
}

/// Names of the stream, group and this consumer.
#[derive(Debug, Clone)]
pub struct StreamNames {
    /// The jobs stream.
    pub stream: String,
    /// The consumer group.
    pub group: String,
    /// This host's consumer name.
    pub consumer: String,
    /// The dead-letter stream.
    pub dead: String,
}

/// A consumer of the jobs stream.
#[derive(Clone)]
pub struct JobQueue {
    names: StreamNames,
    cmd: ConnectionManager,
    blocking: ConnectionManager,
    heartbeat: redis::Script,
    ack: redis::Script,
    trim: redis::Script,
    prune: redis::Script,
    dead_max: u64,
    cursor: Arc<Mutex<String>>,
}

impl JobQueue {
    /// Connects (two self-healing connections: one for blocking reads) and creates the group
    /// if missing. A Redis restart costs the failing calls, not the host.
    ///
    /// # Errors
    /// [`QueueError`] when Redis is unreachable.
    pub async fn connect(url: &str, names: StreamNames) -> Result<Self, QueueError> {
        let client = redis::Client::open(url)?;
        let config = |response: Option<Duration>| {
            ConnectionManagerConfig::new()
                .set_response_timeout(response)
                .set_connection_timeout(Some(Duration::from_secs(5)))
                .set_number_of_retries(3)
                .set_max_delay(Duration::from_secs(2))
        };
        let cmd = ConnectionManager::new_with_config(
            client.clone(),
            config(Some(Duration::from_secs(10))),
        )
        .await?;
        let blocking = ConnectionManager::new_with_config(client, config(None)).await?;
        let queue = Self {
            names,
            cmd,
            blocking,
            heartbeat: redis::Script::new(HEARTBEAT_LUA),
            ack: redis::Script::new(ACK_LUA),
            trim: redis::Script::new(TRIM_LUA),
            prune: redis::Script::new(PRUNE_CONSUMERS_LUA),
            dead_max: DEAD_LETTER_MAX,
            cursor: Arc::new(Mutex::new("0-0".to_owned())),
        };
        queue.ensure_group().await?;
        Ok(queue)
    }

    /// The stream names in use.
    pub fn names(&self) -> &StreamNames {
        &self.names
    }

    /// Caps the dead-letter stream at about `max` entries (default [`DEAD_LETTER_MAX`]).
    #[must_use]
    pub fn with_dead_letter_max(mut self, max: u64) -> Self {
        self.dead_max = max.max(1);
        self
    }

    /// Deletes the group's consumers that hold nothing and have been idle longer than
    /// `idle` (this host's own consumer excepted); returns how many.
    ///
    /// # Errors
    /// [`QueueError`] on Redis failures.
    pub async fn prune_consumers(&self, idle: Duration) -> Result<u64, QueueError> {
        Ok(self
            .prune
            .key(&self.names.stream)
            .arg(&self.names.group)
            .arg(idle.as_millis() as u64)
            .arg(&self.names.consumer)
            .invoke_async(&mut self.cmd.clone())
            .await?)
    }

    /// Trims the stream of every entry all groups have consumed and acked ([`TRIM_LUA`]).
    ///
    /// # Errors
    /// [`QueueError`] on Redis failures.
    pub async fn trim(&self) -> Result<(), QueueError> {
        let _: String = self
            .trim
            .key(&self.names.stream)
            .invoke_async(&mut self.cmd.clone())
            .await?;
        Ok(())
    }

    /// A `NOGROUP` answer means the stream (and its group) expired: the group is created
    /// again and the read answers "nothing yet".
    async fn recover<T>(&self, res: redis::RedisResult<T>) -> Result<Option<T>, QueueError> {
        match res {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.code() == Some("NOGROUP") => {
                tracing::warn!(stream = %self.names.stream, "the jobs stream or its group is gone (expired?): creating the group again");
                self.ensure_group().await?;
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn ensure_group(&self) -> Result<(), QueueError> {
        let res: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.names.stream)
            .arg(&self.names.group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut self.cmd.clone())
            .await;
        match res {
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            other => Ok(other?),
        }
    }

    /// Takes over one entry pending longer than `min_idle` on any consumer, if there is one.
    /// The scan goes on from where the previous call stopped, so a long pending list is
    /// covered in full.
    ///
    /// # Errors
    /// [`QueueError`] on Redis failures.
    pub async fn claim_stale(&self, min_idle: Duration) -> Result<Option<Entry>, QueueError> {
        let res: redis::RedisResult<StreamAutoClaimReply> = redis::cmd("XAUTOCLAIM")
            .arg(&self.names.stream)
            .arg(&self.names.group)
            .arg(&self.names.consumer)
            .arg(min_idle.as_millis() as u64)
            .arg(self.cursor())
            .arg("COUNT")
            .arg(1)
            .query_async(&mut self.cmd.clone())
            .await;
        let Some(reply) = self.recover(res).await? else {
            return Ok(None);
        };
        if let Ok(mut c) = self.cursor.lock() {
            c.clone_from(&reply.next_stream_id);
        }
        let Some(sid) = reply.claimed.into_iter().next() else {
            return Ok(None);
        };
        let deliveries = self.deliveries(&sid.id).await?.unwrap_or(1);
        Ok(Some(Entry {
            job: sid.get::<String>(JOB_FIELD),
            sig: sid.get::<String>(JOB_SIG_FIELD),
            id: sid.id,
            deliveries,
        }))
    }

    fn cursor(&self) -> String {
        self.cursor
            .lock()
            .map(|c| c.clone())
            .unwrap_or_else(|_| "0-0".to_owned())
    }

    /// Reads one new entry, blocking at most `block`.
    ///
    /// # Errors
    /// [`QueueError`] on Redis failures.
    pub async fn read_new(&self, block: Duration) -> Result<Option<Entry>, QueueError> {
        let res: redis::RedisResult<Option<StreamReadReply>> = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(&self.names.group)
            .arg(&self.names.consumer)
            .arg("COUNT")
            .arg(1)
            .arg("BLOCK")
            .arg(block.as_millis().max(1) as u64)
            .arg("STREAMS")
            .arg(&self.names.stream)
            .arg(">")
            .query_async(&mut self.blocking.clone())
            .await;
        let reply = self.recover(res).await?.flatten();
        let sid = reply
            .and_then(|r| r.keys.into_iter().next())
            .and_then(|k| k.ids.into_iter().next());
        Ok(sid.map(|sid| Entry {
            job: sid.get::<String>(JOB_FIELD),
            sig: sid.get::<String>(JOB_SIG_FIELD),
            id: sid.id,
            deliveries: 1,
        }))
    }

    /// The delivery count of a pending entry, `None` when it is not pending.
    ///
    /// # Errors
    /// [`QueueError`] on Redis failures.
    pub async fn deliveries(&self, id: &str) -> Result<Option<u32>, QueueError> {
        let reply: StreamPendingCountReply = redis::cmd("XPENDING")
            .arg(&self.names.stream)
            .arg(&self.names.group)
            .arg(id)
            .arg(id)
            .arg(1)
            .query_async(&mut self.cmd.clone())
            .await?;
        Ok(reply.ids.first().map(|p| p.times_delivered as u32))
    }

    /// Whether `job_id`'s queued marker is still there: the edge deletes it when the job
    /// leaves `queued` ([`qwen_contract::queued_marker_key`]).
    ///
    /// # Errors
    /// [`QueueError`] on Redis failures.
    pub async fn still_queued(&self, job_id: &str) -> Result<bool, QueueError> {
        let key = qwen_contract::queued_marker_key(&self.names.stream, job_id);
        let mut conn = self.cmd.clone();
        let n: i64 = redis::cmd("EXISTS").arg(key).query_async(&mut conn).await?;
        Ok(n == 1)
    }

    /// Renews this consumer's claim on `id`; `false` when another consumer owns it now
    /// (or it is no longer pending).
    ///
    /// # Errors
    /// [`QueueError`] on Redis failures.
    pub async fn renew(&self, id: &str) -> Result<bool, QueueError> {
        let n: i64 = self.owned_call(&self.heartbeat, id).await?;
        Ok(n == 1)
    }

    /// Acknowledges `id` if this consumer owns it, then trims the stream ([`JobQueue::trim`];
    /// a failed trim is logged, the next ack trims again); `false` when not owned.
    ///
    /// # Errors
    /// [`QueueError`] on Redis failures of the ack.
    pub async fn ack(&self, id: &str) -> Result<bool, QueueError> {
        let n: i64 = self.owned_call(&self.ack, id).await?;
        if let Err(e) = self.trim().await {
            tracing::warn!(entry = %id, error = %e, "trimming the jobs stream failed");
        }
        Ok(n == 1)
    }

    async fn owned_call(&self, script: &redis::Script, id: &str) -> Result<i64, QueueError> {
        Ok(script
            .key(&self.names.stream)
            .arg(&self.names.group)
            .arg(&self.names.consumer)
            .arg(id)
            .invoke_async(&mut self.cmd.clone())
            .await?)
    }

    /// Copies an entry (its job and signature) to the dead-letter stream with a reason; the
    /// dead-letter stream is capped at about the configured maximum and its time to live
    /// ([`DEAD_LETTER_TTL_SECS`]) refreshed, in one transaction.
    ///
    /// # Errors
    /// [`QueueError`] on Redis failures.
    pub async fn dead_letter(&self, entry: &Entry, reason: &str) -> Result<(), QueueError> {
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("XADD")
            .arg(&self.names.dead)
            .arg("MAXLEN")
            .arg("~")
            .arg(self.dead_max)
            .arg("*")
            .arg(JOB_FIELD)
            .arg(entry.job.as_deref().unwrap_or(""))
            .arg(JOB_SIG_FIELD)
            .arg(entry.sig.as_deref().unwrap_or(""))
            .arg("source_id")
            .arg(&entry.id)
            .arg("deliveries")
            .arg(entry.deliveries)
            .arg("reason")
            .arg(reason)
            .ignore()
            .cmd("EXPIRE")
            .arg(&self.names.dead)
            .arg(DEAD_LETTER_TTL_SECS)
            .ignore();
        let () = pipe.query_async(&mut self.cmd.clone()).await?;
        Ok(())
    }

    /// Number of entries pending in the group (for metrics and tests).
    ///
    /// # Errors
    /// [`QueueError`] on Redis failures.
    pub async fn pending(&self) -> Result<u64, QueueError> {
        let v: redis::Value = redis::cmd("XPENDING")
            .arg(&self.names.stream)
            .arg(&self.names.group)
            .query_async(&mut self.cmd.clone())
            .await?;
        Ok(match v {
            redis::Value::Array(items) => match items.first() {
                Some(redis::Value::Int(n)) => *n as u64,
                _ => 0,
            },
            _ => 0,
        })
    }
}
