//! Presets: categories → presets of a category (paginated) → the chosen preset.

use botapi::InlineKeyboardButton;
use qwen_core::fleet::Wait;
use qwen_core::presets::{self, Category, Preset};
use qwen_core::{CoreError, CoreResult};

use crate::event::Button;
use crate::i18n::{Lang, t, tf};
use crate::screens::{Rendered, View, nav};

/// Presets per page.
pub const PAGE_SIZE: usize = 5;

fn category_name(c: &Category, lang: Lang) -> &str {
    match lang {
        Lang::En => &c.name_en,
        Lang::Ru => &c.name_ru,
    }
}

/// The categories that have presets, one button each.
///
/// # Errors
/// The storage error.
pub async fn categories(view: &View<'_>) -> CoreResult<Rendered> {
    let lang = view.lang;
    let cats = presets::categories(view.sql).await?;
    let mut rows: Vec<Vec<InlineKeyboardButton>> = cats
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| {
            let label = format!("{} ({n})", category_name(c, lang));
            vec![InlineKeyboardButton::callback(
                label,
                Button::Category(c.id.clone(), 0).data(),
            )]
        })
        .collect();
    let key = if rows.is_empty() {
        "categories_empty"
    } else {
        "categories"
    };
    rows.extend(nav(lang, Button::MainMenu));
    Ok(Rendered::new(t(lang, key).to_owned(), rows))
}

/// One page of a category's presets: name, short description and cost of each.
///
/// # Errors
/// [`CoreError::NotFound`] for an unknown category; the storage error.
pub async fn list(view: &View<'_>, category: &str, page: u32) -> CoreResult<Rendered> {
    let lang = view.lang;
    let cat = find_category(view, category).await?;
    let all = presets::list(view.sql, Some(category)).await?;
    let pages = all.len().div_ceil(PAGE_SIZE).max(1);
    let page = (page as usize).min(pages - 1);
    let shown = &all[page * PAGE_SIZE..((page + 1) * PAGE_SIZE).min(all.len())];
    let header = [
        ("category", category_name(&cat, lang).to_owned()),
        ("page", (page + 1).to_string()),
        ("pages", pages.to_string()),
    ];
    let mut text = tf(lang, "presets_header", &header);
    for p in shown {
        text.push('\n');
        text.push_str(&line(p, lang));
    }
    let mut rows: Vec<Vec<InlineKeyboardButton>> = shown
        .iter()
        .map(|p| {
            vec![InlineKeyboardButton::callback(
                p.name(lang),
                Button::Preset(p.id.clone()).data(),
            )]
        })
        .collect();
    rows.extend(pager(lang, category, page, pages));
    rows.extend(nav(lang, Button::Categories));
    Ok(Rendered::new(text, rows))
}

async fn find_category(view: &View<'_>, id: &str) -> CoreResult<Category> {
    presets::categories(view.sql)
        .await?
        .into_iter()
        .map(|(c, _)| c)
        .find(|c| c.id == id)
        .ok_or_else(|| CoreError::not_found("category_not_found", "no such category"))
}

fn line(p: &Preset, lang: Lang) -> String {
    tf(
        lang,
        "preset_line",
        &[
            ("name", p.name(lang).to_owned()),
            ("cost", p.cost.to_string()),
            ("description", p.description(lang).to_owned()),
        ],
    )
}

fn pager(
    lang: Lang,
    category: &str,
    page: usize,
    pages: usize,
) -> Option<Vec<InlineKeyboardButton>> {
    let mut row = Vec::new();
    if page > 0 {
        let target = Button::Category(category.into(), (page - 1) as u32);
        row.push(InlineKeyboardButton::callback(
            t(lang, "btn_prev"),
            target.data(),
        ));
    }
    if page + 1 < pages {
        let target = Button::Category(category.into(), (page + 1) as u32);
        row.push(InlineKeyboardButton::callback(
            t(lang, "btn_next"),
            target.data(),
        ));
    }
    (!row.is_empty()).then_some(row)
}

/// The chosen preset: what it does, its cost, "send a photo".
///
/// # Errors
/// [`CoreError::NotFound`] for a preset that no longer exists; the storage error.
pub async fn chosen(view: &View<'_>, id: &str) -> CoreResult<Rendered> {
    let lang = view.lang;
    let p = presets::get(view.sql, id).await?;
    let text = tf(
        lang,
        "preset_chosen",
        &[
            ("name", p.name(lang).to_owned()),
            ("cost", p.cost.to_string()),
            ("description", p.description(lang).to_owned()),
        ],
    );
    Ok(Rendered::new(
        text,
        nav(lang, Button::Category(p.category.clone(), 0)),
    ))
}

/// The "Start" button of a preset edit, with the price and the expected wait.
pub fn start_button(lang: Lang, cost: i64, wait: Wait) -> InlineKeyboardButton {
    let args = [
        ("cost", cost.to_string()),
        ("wait", crate::screens::wait::short(lang, wait)),
    ];
    let label = tf(lang, "btn_start_job", &args);
    InlineKeyboardButton::callback(label, Button::Go.data())
}
