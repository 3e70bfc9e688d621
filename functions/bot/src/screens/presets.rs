//! Presets: categories (`cats`) → presets of a category, paginated (`cat:<id>:<page>`) →
//! the chosen preset (`preset:<id>`). Prices shown are the user's ([`View::price`]).

use async_trait::async_trait;
use botapi::InlineKeyboardButton;
use qwen_core::presets::{self, Category, Preset};
use qwen_core::{CoreError, CoreResult};
use qwen_texts::{Lang, t, tf};

use crate::callback::{Button, MENU, Screen};
use crate::screens::route::Route;
use crate::screens::ui::{Rendered, View, nav};
use crate::state::DialogState;
use crate::step::{self, Step};

/// This file's routes.
pub const ROUTES: &[&dyn Route] = &[&Categories, &CategoryPage, &Chosen];

/// The categories screen.
pub fn categories_screen() -> Screen {
    Button::to("cats")
}

/// A page of a category's presets.
pub fn category(id: &str, page: u32) -> Button {
    Button::with("cat", vec![id.to_owned(), page.to_string()])
}

/// A preset.
pub fn preset(id: &str) -> Button {
    Button::with("preset", vec![id.to_owned()])
}

/// `cats`: the preset categories.
pub struct Categories;

#[async_trait(?Send)]
impl Route for Categories {
    fn prefix(&self) -> &'static str {
        "cats"
    }

    fn press(&self, state: &DialogState, _: &[String]) -> Option<Step> {
        let to = DialogState::SelectPresetCategory;
        Some(step::show(state, to, categories_screen()))
    }

    async fn render(&self, view: &View<'_>, _: &[String]) -> Option<CoreResult<Rendered>> {
        Some(categories(view).await)
    }
}

/// `cat:<id>:<page>`: one page of a category (a page that is no number is the first).
pub struct CategoryPage;

#[async_trait(?Send)]
impl Route for CategoryPage {
    fn prefix(&self) -> &'static str {
        "cat"
    }

    fn arity(&self) -> usize {
        2
    }

    fn press(&self, state: &DialogState, args: &[String]) -> Option<Step> {
        let [id, page] = args else {
            return Some(step::stale(state));
        };
        let page = page.parse().unwrap_or(0);
        let to = DialogState::SelectPreset {
            category: id.clone(),
            page,
        };
        Some(step::show(state, to, category(id, page)))
    }

    async fn render(&self, view: &View<'_>, args: &[String]) -> Option<CoreResult<Rendered>> {
        let [id, page] = args else { return None };
        Some(list(view, id, page.parse().unwrap_or(0)).await)
    }
}

/// `preset:<id>`: the chosen preset; starts a preset edit (an empty draft).
pub struct Chosen;

#[async_trait(?Send)]
impl Route for Chosen {
    fn prefix(&self) -> &'static str {
        "preset"
    }

    fn arity(&self) -> usize {
        1
    }

    fn press(&self, state: &DialogState, args: &[String]) -> Option<Step> {
        let [id] = args else {
            return Some(step::stale(state));
        };
        let to = DialogState::AwaitingImageForPreset {
            preset_id: id.clone(),
        };
        Some(step::enter(to, preset(id)))
    }

    async fn render(&self, view: &View<'_>, args: &[String]) -> Option<CoreResult<Rendered>> {
        let [id] = args else { return None };
        Some(chosen(view, id).await)
    }
}

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
                category(&c.id, 0).data(),
            )]
        })
        .collect();
    let key = if rows.is_empty() {
        "categories_empty"
    } else {
        "categories"
    };
    rows.extend(nav(lang, Button::to(MENU)));
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
    let key = if pages > 1 { "presets_header" } else { "presets_header_one" };
    let mut text = tf(lang, key, &header);
    for p in shown {
        text.push('\n');
        text.push_str(&line(view, p));
    }
    let mut rows: Vec<Vec<InlineKeyboardButton>> = shown
        .iter()
        .map(|p| {
            vec![InlineKeyboardButton::callback(
                p.name(lang),
                preset(&p.id).data(),
            )]
        })
        .collect();
    rows.extend(pager(lang, category, page, pages));
    rows.extend(nav(lang, categories_screen()));
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

fn line(view: &View<'_>, p: &Preset) -> String {
    let lang = view.lang;
    tf(
        lang,
        "preset_line",
        &[
            ("name", p.name(lang).to_owned()),
            ("cost", view.price(p.cost).to_string()),
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
        let target = self::category(category, (page - 1) as u32);
        row.push(InlineKeyboardButton::callback(
            t(lang, "btn_prev"),
            target.data(),
        ));
    }
    if page + 1 < pages {
        let target = self::category(category, (page + 1) as u32);
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
            ("cost", view.price(p.cost).to_string()),
            ("description", p.description(lang).to_owned()),
        ],
    );
    Ok(Rendered::new(
        text,
        nav(lang, category(&p.category, 0)),
    ))
}
