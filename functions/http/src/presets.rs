//! The preset routes: `/api/presets/…`.

use qwen_core::ports::HttpResponse;
use qwen_core::presets;

use crate::bodies::{CategoryCount, CategoryList, PresetList};
use crate::ctx::{Answer, Ctx};
use crate::request::{self, Request};

/// `GET /api/presets/`.
pub async fn list_presets(ctx: &Ctx<'_>, req: &Request) -> Answer {
    let category = req.query_param("category");
    let items = presets::list(ctx.sql, category.as_deref()).await?;
    Ok(request::json(200, &PresetList { items }))
}

/// `GET /api/presets/categories`.
pub async fn categories(ctx: &Ctx<'_>) -> Answer {
    let cats = presets::categories(ctx.sql).await?;
    let items: Vec<_> = cats
        .into_iter()
        .map(|(c, n)| CategoryCount {
            id: c.id,
            name_ru: c.name_ru,
            name_en: c.name_en,
            sort: c.sort,
            presets: n,
        })
        .collect();
    Ok(request::json(200, &CategoryList { items }))
}

/// `POST or PUT /api/presets/{id}`.
pub async fn save_preset(ctx: &Ctx<'_>, req: &Request, id: &str, create: bool) -> Answer {
    let mut body: serde_json::Value = req.json()?;
    if let Some(obj) = body.as_object_mut() {
        obj.insert("id".into(), serde_json::Value::String(id.to_owned()));
    }
    let preset: presets::Preset = serde_json::from_value(body)
        .map_err(|e| request::error(422, "invalid_preset", &format!("invalid preset: {e}")))?;
    let now = ctx.clock.now_ms();
    if create {
        Ok(request::json(
            201,
            &presets::create(ctx.sql, &preset, now).await?,
        ))
    } else {
        Ok(request::json(
            200,
            &presets::update(ctx.sql, &preset, now).await?,
        ))
    }
}

/// `DELETE /api/presets/{id}`.
pub async fn delete_preset(ctx: &Ctx<'_>, id: &str) -> Answer {
    presets::delete(ctx.sql, id, ctx.clock.now_ms()).await?;
    Ok(HttpResponse {
        status: 204,
        headers: Vec::new(),
        body: Vec::new(),
    })
}

/// `GET /api/presets/{id}`.
pub async fn get_preset(ctx: &Ctx<'_>, id: &str) -> Answer {
    let preset = presets::get(ctx.sql, id).await?;
    Ok(request::json(200, &preset))
}
