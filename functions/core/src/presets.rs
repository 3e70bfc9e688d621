//! Presets: ready-made edits grouped in categories, with names in Russian and English.
//!
//! Built-in presets ship as one JSON file each under `functions/core/presets/`, registered in
//! [`BUILTIN_PRESETS`]; they are seeded into SQLite (insert-if-absent, so edits and deletions
//! made through the API stick) and edited through the API afterwards. Deletion is soft, so a
//! deleted built-in preset does not come back on the next seed and old jobs keep their link.
//! A preset may name the workflow its jobs run (`workflow`); without one (every built-in
//! preset) they run the deployment's `default_workflow`.

use serde::{Deserialize, Serialize};

use crate::contract::Language;
use crate::error::{CoreError, CoreResult};
use crate::ports::{Sql, SqlError, SqlRow, SqlValue};

/// The built-in categories file.
pub const BUILTIN_CATEGORIES: &str = include_str!("../presets/categories.json");

/// Every built-in preset. A new preset is a new file plus one line here.
pub const BUILTIN_PRESETS: &[&str] = &[
    include_str!("../presets/anime.json"),
    include_str!("../presets/oil_painting.json"),
    include_str!("../presets/pencil_sketch.json"),
    include_str!("../presets/professional_headshot.json"),
    include_str!("../presets/smile.json"),
    include_str!("../presets/restore_old_photo.json"),
    include_str!("../presets/beach_background.json"),
    include_str!("../presets/remove_background.json"),
    include_str!("../presets/winter.json"),
];

/// Longest preset name, in either language (characters).
pub const MAX_NAME_CHARS: usize = 256;

/// What a preset id and a workflow name look like: 1–64 characters of `a-z`, `0-9`, `_`.
pub const IDENTIFIER_PATTERN: &str = "^[a-z0-9_]{1,64}$";

/// Whether `s` matches [`IDENTIFIER_PATTERN`] (a preset id, a workflow name: safe in a file
/// name, a callback, a log line).
pub fn is_identifier(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A preset category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Category {
    /// Stable id, e.g. `style`.
    pub id: String,
    /// Name in Russian.
    pub name_ru: String,
    /// Name in English.
    pub name_en: String,
    /// Display order.
    #[serde(default)]
    pub sort: i64,
}

/// A preset as stored and as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Preset {
    /// Stable id, e.g. `anime` (`[a-z0-9_]`, 1–64 characters).
    pub id: String,
    /// Category id.
    pub category: String,
    /// Name in Russian.
    pub name_ru: String,
    /// Name in English.
    pub name_en: String,
    /// Short description in Russian.
    #[serde(default)]
    pub description_ru: String,
    /// Short description in English.
    #[serde(default)]
    pub description_en: String,
    /// The prompt sent to the model.
    pub prompt: String,
    /// Price in credits.
    pub cost: i64,
    /// Display order inside the category.
    #[serde(default)]
    pub sort: i64,
    /// The workflow its jobs run: a template name under the gpu-host's `workflows/`
    /// (`[a-z0-9_]`, 1–64 characters). Absent or `null`: the deployment's `default_workflow`.
    /// The edge cannot see the hosts' templates, so a host refuses a job naming one it does
    /// not have: the job fails (`comfy_validation`) and is refunded.
    #[serde(default)]
    #[schema(pattern = "^[a-z0-9_]{1,64}$")]
    pub workflow: Option<String>,
}

impl Preset {
    /// Name in `lang` (`en` or anything else → Russian).
    pub fn name(&self, lang: Language) -> &str {
        match lang {
            Language::En => &self.name_en,
            Language::Ru => &self.name_ru,
        }
    }

    /// Description in `lang`.
    pub fn description(&self, lang: Language) -> &str {
        match lang {
            Language::En => &self.description_en,
            Language::Ru => &self.description_ru,
        }
    }

    /// Checks the fields an operator may set.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming the first bad field.
    pub fn validate(&self) -> CoreResult<()> {
        if !is_identifier(&self.id) || self.id == "categories" {
            return Err(CoreError::invalid(
                "invalid_preset",
                "id must be 1–64 characters of a-z, 0-9, _ (and not `categories`)",
            ));
        }
        if self.category.trim().is_empty()
            || self.name_ru.trim().is_empty()
            || self.name_en.trim().is_empty()
        {
            return Err(CoreError::invalid(
                "invalid_preset",
                "category, name_ru and name_en are required",
            ));
        }
        let long = |s: &str| s.chars().count() > MAX_NAME_CHARS;
        if long(&self.name_ru) || long(&self.name_en) {
            return Err(CoreError::invalid(
                "invalid_preset",
                "name_ru and name_en are at most 256 characters",
            ));
        }
        crate::prompt::Prompt::parse(&self.prompt)?;
        if self.cost < 0 {
            return Err(CoreError::invalid("invalid_preset", "cost must be ≥ 0"));
        }
        if self.workflow.as_deref().is_some_and(|w| !is_identifier(w)) {
            return Err(CoreError::invalid(
                "invalid_preset",
                "workflow must be 1–64 characters of a-z, 0-9, _ (or null for the default)",
            ));
        }
        Ok(())
    }
}

/// Parses the built-in data files.
///
/// # Errors
/// A message naming the broken file; a test keeps the shipped files valid.
pub fn builtin() -> Result<(Vec<Category>, Vec<Preset>), String> {
    let cats: Vec<Category> =
        serde_json::from_str(BUILTIN_CATEGORIES).map_err(|e| format!("categories.json: {e}"))?;
    let mut presets = Vec::with_capacity(BUILTIN_PRESETS.len());
    for (i, raw) in BUILTIN_PRESETS.iter().enumerate() {
        let p: Preset = serde_json::from_str(raw).map_err(|e| format!("preset #{i}: {e}"))?;
        presets.push(p);
    }
    Ok((cats, presets))
}

/// A fingerprint of the built-in categories and presets (their files' contents): seeding runs
/// again when it changes.
pub fn builtin_fingerprint() -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(BUILTIN_CATEGORIES.as_bytes());
    for raw in BUILTIN_PRESETS {
        h.update([0u8]);
        h.update(raw.as_bytes());
    }
    hex::encode(&h.finalize()[..8])
}

/// Inserts built-in categories and presets that the database does not have yet.
///
/// # Errors
/// The storage error.
pub async fn seed_builtin(sql: &dyn Sql, now_ms: i64) -> Result<(), SqlError> {
    let (cats, presets) = builtin().map_err(SqlError::Other)?;
    for c in &cats {
        sql.execute(
            "INSERT OR IGNORE INTO preset_categories (id, name_ru, name_en, sort) VALUES (?1, ?2, ?3, ?4)",
            &[c.id.as_str().into(), c.name_ru.as_str().into(), c.name_en.as_str().into(), c.sort.into()],
        )
        .await?;
    }
    for p in &presets {
        insert(sql, p, now_ms, "INSERT OR IGNORE").await?;
    }
    Ok(())
}

/// The columns [`from_row`] reads, in order.
pub(crate) const COLUMNS: &str =
    "id, category, name_ru, name_en, description_ru, description_en, prompt, cost, sort, workflow";

/// A preset from a row of [`COLUMNS`].
pub(crate) fn from_row(r: &SqlRow) -> Result<Preset, SqlError> {
    Ok(Preset {
        id: r.text(0)?,
        category: r.text(1)?,
        name_ru: r.text(2)?,
        name_en: r.text(3)?,
        description_ru: r.text(4)?,
        description_en: r.text(5)?,
        prompt: r.text(6)?,
        cost: r.int(7)?,
        sort: r.int(8)?,
        workflow: r.opt_text(9)?,
    })
}

fn params(p: &Preset) -> Vec<SqlValue> {
    vec![
        p.id.as_str().into(),
        p.category.as_str().into(),
        p.name_ru.as_str().into(),
        p.name_en.as_str().into(),
        p.description_ru.as_str().into(),
        p.description_en.as_str().into(),
        p.prompt.as_str().into(),
        p.cost.into(),
        p.sort.into(),
        p.workflow.as_deref().into(),
    ]
}

async fn insert(
    sql: &dyn Sql,
    p: &Preset,
    now_ms: i64,
    verb: &str,
) -> Result<Vec<SqlRow>, SqlError> {
    let mut args = params(p);
    args.push(now_ms.into());
    let stmt = format!(
        "{verb} INTO presets ({COLUMNS}, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11) RETURNING id"
    );
    sql.execute(&stmt, &args).await
}

/// Live presets, optionally of one category, in display order.
///
/// # Errors
/// The storage error.
pub async fn list(sql: &dyn Sql, category: Option<&str>) -> CoreResult<Vec<Preset>> {
    let stmt = format!(
        "SELECT {COLUMNS} FROM presets WHERE deleted_at IS NULL AND (?1 IS NULL OR category = ?1) \
         ORDER BY category, sort, id"
    );
    let rows = sql.execute(&stmt, &[category.into()]).await?;
    Ok(crate::db::all(&rows, from_row)?)
}

/// A live preset by id.
///
/// # Errors
/// [`CoreError::NotFound`] (`preset_not_found`) or the storage error.
pub async fn get(sql: &dyn Sql, id: &str) -> CoreResult<Preset> {
    let stmt = format!("SELECT {COLUMNS} FROM presets WHERE id = ?1 AND deleted_at IS NULL");
    let rows = sql.execute(&stmt, &[id.into()]).await?;
    crate::db::first(&rows, from_row)?.ok_or_else(|| preset_not_found(id))
}

/// The "preset does not exist" error.
pub(crate) fn preset_not_found(id: &str) -> CoreError {
    CoreError::not_found("preset_not_found", format!("preset {id:?} does not exist"))
}

/// Categories that have at least one live preset, in display order, with preset counts.
///
/// # Errors
/// The storage error.
pub async fn categories(sql: &dyn Sql) -> CoreResult<Vec<(Category, i64)>> {
    let rows = sql
        .execute(
            "SELECT c.id, c.name_ru, c.name_en, c.sort, COUNT(p.id) FROM preset_categories c \
             JOIN presets p ON p.category = c.id AND p.deleted_at IS NULL \
             WHERE c.deleted_at IS NULL GROUP BY c.id ORDER BY c.sort, c.id",
            &[],
        )
        .await?;
    let category = |r: &SqlRow| -> Result<(Category, i64), SqlError> {
        let c = Category {
            id: r.text(0)?,
            name_ru: r.text(1)?,
            name_en: r.text(2)?,
            sort: r.int(3)?,
        };
        Ok((c, r.int(4)?))
    };
    Ok(crate::db::all(&rows, category)?)
}

/// Creates a preset; its category must exist. A soft-deleted preset with the same id is
/// revived with the new fields.
///
/// # Errors
/// [`CoreError::Invalid`], [`CoreError::Conflict`] (`preset_exists`), the storage error.
pub async fn create(sql: &dyn Sql, p: &Preset, now_ms: i64) -> CoreResult<Preset> {
    p.validate()?;
    ensure_category(sql, &p.category).await?;
    let revived = update_row(sql, p, now_ms, "deleted_at IS NOT NULL").await?;
    if revived {
        return Ok(p.clone());
    }
    match insert(sql, p, now_ms, "INSERT").await {
        Ok(_) => Ok(p.clone()),
        Err(SqlError::Constraint(_)) => Err(CoreError::conflict(
            "preset_exists",
            format!("preset {:?} exists", p.id),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Replaces a live preset's fields.
///
/// # Errors
/// [`CoreError::Invalid`], [`CoreError::NotFound`], the storage error.
pub async fn update(sql: &dyn Sql, p: &Preset, now_ms: i64) -> CoreResult<Preset> {
    p.validate()?;
    ensure_category(sql, &p.category).await?;
    if update_row(sql, p, now_ms, "deleted_at IS NULL").await? {
        Ok(p.clone())
    } else {
        Err(preset_not_found(&p.id))
    }
}

async fn update_row(sql: &dyn Sql, p: &Preset, now_ms: i64, condition: &str) -> CoreResult<bool> {
    let mut args = params(p);
    args.push(now_ms.into());
    let stmt = format!(
        "UPDATE presets SET category = ?2, name_ru = ?3, name_en = ?4, description_ru = ?5, \
         description_en = ?6, prompt = ?7, cost = ?8, sort = ?9, workflow = ?10, updated_at = ?11, \
         deleted_at = NULL WHERE id = ?1 AND {condition} RETURNING id"
    );
    Ok(!sql.execute(&stmt, &args).await?.is_empty())
}

/// Soft-deletes a live preset.
///
/// # Errors
/// [`CoreError::NotFound`] or the storage error.
pub async fn delete(sql: &dyn Sql, id: &str, now_ms: i64) -> CoreResult<()> {
    let rows = sql
        .execute(
            "UPDATE presets SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL RETURNING id",
            &[id.into(), now_ms.into()],
        )
        .await?;
    if rows.is_empty() {
        Err(preset_not_found(id))
    } else {
        Ok(())
    }
}

async fn ensure_category(sql: &dyn Sql, id: &str) -> CoreResult<()> {
    let rows = sql
        .execute(
            "SELECT 1 FROM preset_categories WHERE id = ?1 AND deleted_at IS NULL",
            &[id.into()],
        )
        .await?;
    if rows.is_empty() {
        return Err(CoreError::invalid(
            "unknown_category",
            format!("category {id:?} does not exist"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_presets_parse_validate_and_have_known_categories() {
        let (cats, presets) = builtin().expect("builtin data parses");
        assert!(!presets.is_empty());
        for p in &presets {
            p.validate().expect("shipped preset is valid");
            assert!(
                cats.iter().any(|c| c.id == p.category),
                "{} has unknown category",
                p.id
            );
        }
        let mut ids: Vec<_> = presets.iter().map(|p| &p.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), presets.len(), "duplicate preset id");
        assert!(
            presets.iter().all(|p| p.workflow.is_none()),
            "built-in presets run the deployment's default workflow"
        );
    }

    #[test]
    fn a_workflow_name_is_a_safe_identifier_or_absent() {
        let (_, presets) = builtin().expect("builtin data parses");
        let with = |w: Option<&str>| Preset {
            workflow: w.map(str::to_owned),
            ..presets[0].clone()
        };
        for ok in [None, Some("model_free"), Some("x"), Some(&*"a".repeat(64))] {
            assert!(with(ok).validate().is_ok(), "{ok:?}");
        }
        let long = "a".repeat(65);
        for bad in ["", "Model", "../etc", "a-b", "a b", "qwen.json", "é", &long] {
            assert!(with(Some(bad)).validate().is_err(), "{bad:?}");
        }
    }
}
