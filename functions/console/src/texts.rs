//! The console's words in Russian and English (operators read them; the bot's users read
//! `qwen-texts`).

/// The console's language, chosen with the switch in the header (a cookie).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Russian (the default).
    #[default]
    Ru,
    /// English.
    En,
}

impl Lang {
    /// `ru` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    /// The language of a code; Russian for anything else.
    pub fn from_code(code: Option<&str>) -> Lang {
        match code {
            Some("en") => Lang::En,
            _ => Lang::Ru,
        }
    }
}

/// `(key, Russian, English)`.
const TEXTS: &[(&str, &str, &str)] = &[
    ("title", "Консоль оператора", "Operator console"),
    ("nav_fleet", "Очередь и хосты", "Queue and hosts"),
    ("nav_users", "Пользователи", "Users"),
    ("nav_jobs", "Задания", "Jobs"),
    ("nav_payments", "Платежи", "Payments"),
    ("nav_reconciliation", "Сверка", "Reconciliation"),
    ("sign_in", "Войти", "Sign in"),
    ("sign_out", "Выйти", "Sign out"),
    ("name", "Имя", "Name"),
    ("password", "Пароль", "Password"),
    (
        "wrong_password",
        "Неверное имя или пароль.",
        "Wrong name or password.",
    ),
    (
        "too_soon",
        "Слишком много попыток; повторите через секунд:",
        "Too many tries; try again in seconds:",
    ),
    (
        "not_configured",
        "Консоль не настроена: задайте console_operators и console_session_key.",
        "The console is not configured: set console_operators and console_session_key.",
    ),
    (
        "forbidden",
        "Запрос отклонён (сессия, CSRF-токен или источник).",
        "Request refused (session, CSRF token or origin).",
    ),
    ("queue", "Очередь", "Queue"),
    ("queued", "В очереди", "Queued"),
    ("running", "Выполняются", "Running"),
    ("oldest", "Старейшее ждёт", "Oldest waits"),
    ("per_minute", "Готово в минуту", "Finished per minute"),
    ("wait_new", "Ожидание нового задания", "Wait for a new job"),
    ("stream_waiting", "В потоке: не прочитано", "Stream: unread"),
    (
        "stream_pending",
        "В потоке: у хостов",
        "Stream: held by hosts",
    ),
    ("stream_oldest", "Старейшее у хоста", "Oldest held"),
    ("stream_length", "Записей в потоке", "Stream entries"),
    (
        "stream_down",
        "Redis не отвечает: очередь не видна",
        "Redis is not answering: the stream cannot be read",
    ),
    ("paused", "пауза: нет живых хостов", "paused: no live host"),
    ("hosts", "Хосты", "Hosts"),
    ("host", "Хост", "Host"),
    ("version", "Версия", "Version"),
    ("workflow", "Граф", "Workflow"),
    ("comfy", "ComfyUI", "ComfyUI"),
    ("current_job", "Текущее задание", "Current job"),
    ("jobs_done", "Выполнено", "Jobs done"),
    ("run_mean", "Среднее, с", "Mean, s"),
    ("run_p90", "p90, с", "p90, s"),
    ("busy", "Загрузка GPU", "GPU busy"),
    ("seen", "Последний отчёт", "Last report"),
    ("state", "Состояние", "State"),
    ("live", "работает", "live"),
    ("stale", "нет связи", "stale"),
    ("down", "ComfyUI недоступен", "ComfyUI down"),
    (
        "no_hosts",
        "Ни один хост ещё не отчитался.",
        "No host has reported yet.",
    ),
    ("chart_jobs", "Заданий в час, 24 ч", "Jobs per hour, 24 h"),
    ("chart_queue", "Длина очереди, 24 ч", "Queue length, 24 h"),
    ("chart_busy", "Загрузка GPU по хостам", "GPU busy per host"),
    ("search", "Найти", "Search"),
    (
        "search_hint",
        "Telegram id или @username",
        "Telegram id or @username",
    ),
    ("no_users", "Никого не нашлось.", "Nobody found."),
    ("user", "Пользователь", "User"),
    ("balance", "Баланс", "Balance"),
    ("adjust", "Изменить баланс", "Adjust balance"),
    ("amount", "Сумма", "Amount"),
    ("reason", "Причина", "Reason"),
    ("apply", "Применить", "Apply"),
    ("ledger", "Движения баланса", "Ledger"),
    ("kind", "Вид", "Kind"),
    ("reference", "Ссылка", "Reference"),
    ("note", "Примечание", "Note"),
    ("time", "Время", "Time"),
    ("jobs", "Задания", "Jobs"),
    ("status", "Статус", "Status"),
    ("what", "Что", "What"),
    ("cost", "Цена", "Cost"),
    ("created", "Создано", "Created"),
    ("started", "Начато", "Started"),
    ("finished", "Завершено", "Finished"),
    ("failure", "Причина сбоя", "Failure"),
    ("cancel", "Отменить", "Cancel"),
    ("payments", "Платежи", "Payments"),
    ("method", "Способ", "Method"),
    ("credits", "Кредиты", "Credits"),
    ("refund", "Вернуть", "Refund"),
    ("refunded", "Возвращено", "Refunded"),
    ("credited", "Зачислено", "Credited"),
    ("currency", "Валюта", "Currency"),
    (
        "totals",
        "Итоги по валютам и статусам",
        "Totals per currency and status",
    ),
    ("count", "Число", "Count"),
    ("any", "любой", "any"),
    ("from", "С", "From"),
    ("to", "По", "To"),
    ("filter", "Показать", "Show"),
    ("total", "Всего", "Total"),
    ("newer", "← Новее", "← Newer"),
    ("older", "Старше →", "Older →"),
    ("nothing", "Ничего нет.", "Nothing here."),
    ("done_adjusted", "Баланс изменён.", "Balance adjusted."),
    (
        "done_cancelled",
        "Задание отменено, оплата возвращена.",
        "Job cancelled and refunded.",
    ),
    ("done_refunded", "Платёж возвращён.", "Payment refunded."),
    ("failed_action", "Не получилось", "That did not work"),
    ("back", "Назад", "Back"),
    ("not_found", "Нет такой страницы.", "No such page."),
    ("done_credited", "Платёж зачислен.", "Payment credited."),
    ("rec_day", "День (UTC)", "Day (UTC)"),
    ("rec_rerun", "заново", "again"),
    ("rec_run", "Сверить", "Reconcile"),
    ("rec_reports", "Отчёты", "Reports"),
    ("rec_run_no", "Запуск", "Run"),
    ("rec_matched", "Совпало", "Matched"),
    ("rec_missing_ours", "Нет у нас", "Missing here"),
    ("rec_missing_theirs", "Нет у них", "Missing there"),
    ("rec_amount_mismatch", "Сумма не совпала", "Amount mismatch"),
    (
        "rec_refund_not_taken_back",
        "Возврат не списан",
        "Refund not taken back",
    ),
    ("rec_kind", "Что найдено", "Finding"),
    ("rec_provider", "Где", "Provider"),
    ("rec_their_id", "Их id", "Their id"),
    ("rec_ours", "У нас", "Ours"),
    ("rec_theirs", "У них", "Theirs"),
    ("rec_note", "Пояснение", "Note"),
    ("rec_credit_now", "Зачислить", "Credit now"),
    ("operator", "Оператор", "Operator"),
];

/// The text of `key` in `lang` (the key itself when unknown, so a typo shows).
pub fn t(lang: Lang, key: &'static str) -> &'static str {
    TEXTS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, ru, en)| if lang == Lang::En { *en } else { *ru })
        .unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::TEXTS;

    #[test]
    fn every_key_once_in_both_languages() {
        for (i, (k, ru, en)) in TEXTS.iter().enumerate() {
            assert!(!ru.is_empty() && !en.is_empty(), "{k}");
            assert!(TEXTS[..i].iter().all(|(o, _, _)| o != k), "{k} twice");
        }
    }
}
