# Russian texts of the bot (Fluent syntax: { $name } is an argument).
# Every key here must also exist in the other language (tested).

btn_back = 🔙 Назад
btn_main_menu = 🏠 Главное меню
btn_presets = 🎨 Пресеты
btn_custom = ✍️ Свой промпт
btn_profile = 👤 Профиль
btn_topup = 💳 Пополнить
btn_language = 🌐 Язык / Language
btn_help = ❓ Помощь
btn_start_job = 🚀 Начать ({ $cost } кр. · { $wait })
btn_cancel_job = ❌ Отменить задание
btn_prev = ◀️ Назад
btn_next = Далее ▶️
btn_lang_ru = 🇷🇺 Русский
btn_lang_en = 🇬🇧 English
btn_method_yookassa_card = 💳 Банковская карта
btn_method_yookassa_sbp = 🏦 СБП
btn_method_stars = ⭐ Telegram Stars
btn_package_rub = { $amount } ₽ → { $credits } кр.
btn_package_rub_bonus = { $amount } ₽ → { $credits } + { $bonus } кр.
btn_package_stars = { $amount } ⭐ → { $credits } кр.
btn_package_stars_bonus = { $amount } ⭐ → { $credits } + { $bonus } кр.
btn_pay = 💳 Оплатить
greeting_new =
    👋 Привет, { $name }! Я меняю фото по вашему описанию с помощью нейросети Qwen-Image-Edit.
    🎁 Вам начислено { $bonus } кр. — баланс: { $balance } кр.
greeting_back = 👋 С возвращением, { $name }! Баланс: { $balance } кр.
main_menu = Главное меню. Выберите пресет или опишите правку своими словами:
help =
    ❓ Как это работает
    1. «🎨 Пресеты» — готовые обработки, или «✍️ Свой промпт» — опишите правку сами.
    2. Отправьте фото (до 3 — альбомом или по одному) как фото или файлом JPEG, PNG, WEBP.
    3. Нажмите «Начать» — результат придёт сюда же.

    Команды:
    /start — начало
    /menu — главное меню
    /balance — баланс
    /cancel — выйти из текущего действия
    /lang — язык
    /help — эта справка
balance = 💰 Ваш баланс: { $balance } кр.
in_edits = Правок на балансе: ≈ { $edits } (по { $price } кр.).
price_per_edit = Одна правка — { $price } кр.
categories = 🎨 Выберите категорию:
categories_empty = Пресетов пока нет.
presets_header = { $category } — стр. { $page } из { $pages }:
presets_header_one = { $category }:
preset_line =
    • { $name } — { $cost } кр.
    {"   "}{ $description }
preset_chosen =
    Пресет «{ $name }» — { $cost } кр.
    { $description }

    📷 Отправьте фото (до 3 — альбомом или по одному), затем нажмите «Начать».
preset_not_found = Этот пресет больше недоступен. Выберите другой.
custom_ask_photo =
    ✍️ Свой промпт — { $cost } кр.
    📷 Отправьте фото (до 3), затем напишите, что изменить.
custom_ask_prompt = 📷 Фото: { $count } из 3. Напишите, что изменить (от 1 до 500 символов), или отправьте ещё фото.
image_added = 📷 Фото { $count } из 3 получено. Отправьте ещё или нажмите «Начать».
album_received = 📷 Альбом получен. Когда все фото загрузятся, нажмите «Начать».
album_received_custom = 📷 Альбом получен. Теперь напишите, что изменить (от 1 до 500 символов).
image_limit = Можно не больше 3 фото на одну обработку — это фото не добавлено. Нажмите «Начать» или /cancel.
not_image = Этот файл не изображение. Отправьте фото или файл JPEG, PNG или WEBP.
image_unexpected = Сначала выберите пресет или «Свой промпт», затем отправьте фото.
custom_write_prompt = Напишите, что изменить на фото (от 1 до 500 символов).
need_image = Сначала отправьте фото.
# The expected wait: on the Start button and in the "job accepted" reply.
wait_seconds = ≈ { $n } с
wait_minutes = ≈ { $n } мин
wait_hours = ≈ { $n } ч
wait_paused_short = очередь на паузе
job_wait = ⏱ Ожидание: { $wait }.
job_wait_paused = ⏸ Очередь на паузе: сейчас нет доступных GPU. Задание начнётся, как только сервер освободится.
prompt_invalid = Промпт должен быть от 1 до 500 символов
prompt_too_long = Промпт длиннее 500 символов: в вашем { $chars }. Сократите его и отправьте снова.
job_created =
    ✅ Задание принято: { $job_id }
    Стоимость: { $cost } кр., баланс: { $balance } кр.
    Перед вами в очереди: { $ahead }.
    { $wait }
job_cancelled = Задание { $job_id } отменено, { $cost } кр. возвращены. Баланс: { $balance } кр.
job_cancel_failed = Задание уже обрабатывается или завершено — отменить нельзя.
insufficient = Недостаточно кредитов: нужно { $needed }, на балансе { $balance }. Не хватает { $shortfall } кр.
too_many_jobs = ⏳ У вас уже { $cap } незавершённых заданий — больше одновременно нельзя. Дождитесь, пока одно из них закончится, и нажмите «Начать» снова: фото сохранены.
profile =
    👤 Профиль
    Баланс: { $balance } кр.
    Заданий всего: { $jobs }
profile_ledger = Последние операции:
profile_jobs = Последние задания:
profile_none = —
kind_signup_bonus = бонус за регистрацию
kind_job_charge = обработка
kind_job_refund = возврат
kind_topup = пополнение
kind_topup_bonus = бонус к пополнению
kind_topup_refund = возврат пополнения
kind_admin_adjustment = корректировка
status_queued = ⏳ в очереди
status_running = ⚙️ обрабатывается
status_succeeded = ✅ готово
status_failed = ❌ ошибка (возврат)
status_cancelled = 🚫 отменено (возврат)
topup =
    💳 Пополнение баланса. Баланс: { $balance } кр.
    Выберите способ оплаты:
topup_packages_yookassa_card = 💳 Банковская карта. Выберите пакет:
topup_packages_yookassa_sbp = 🏦 СБП (Система быстрых платежей). Выберите пакет:
topup_packages_stars = ⭐ Telegram Stars. Выберите пакет:
topup_pay =
    Оплата { $amount } { $currency } за { $credits } кр. (бонус +{ $bonus }).
    Нажмите «Оплатить» — баланс пополнится, как только придёт платёж.
topup_failed = К сожалению, сейчас не получилось начать оплату. Попробуйте чуть позже или выберите другой способ.
topup_invalid = Этот пакет больше недоступен. Откройте «Пополнить» ещё раз.
language = 🌐 Выберите язык / Choose your language:
language_set = Язык: русский.
unknown_command = Неизвестная команда. Список команд — /help.
use_menu = Не понял сообщение. Воспользуйтесь кнопками меню.
unsupported = Я понимаю фото, изображения файлами (JPEG, PNG, WEBP), текст и кнопки.
cancelled = Действие отменено.
state_reset = Сессия устарела — возвращаю в главное меню.
stale_button = Эта кнопка устарела.
error_generic = Произошла ошибка, попробуйте ещё раз.
stats =
    📊 Статистика (UTC)
    Пользователей: { $users }, новых сегодня: { $users_today }
    Заданий сегодня: { $jobs } — в очереди { $queued }, в работе { $running }, готово { $succeeded }, ошибок { $failed }, отменено { $cancelled }
    Ждут GPU сейчас: { $queued_now } (в очереди Redis: { $waiting } не прочитано, { $pending } у GPU-хостов)
    Пополнений сегодня: { $topups } на { $topup_credits } кр.
adjust_usage = Использование: /adjust <telegram_id> <сумма> <причина>
adjusted = Баланс { $user } изменён на { $amount } кр.: теперь { $balance } кр.
user_not_found = Пользователь не найден.
cmd_start = Начало работы
cmd_menu = Главное меню
cmd_help = Справка
cmd_balance = Баланс
cmd_cancel = Выйти из текущего действия
cmd_lang = Язык

# An update from a group, supergroup or channel: the bot works in private chats only.
private_only = Я работаю только в личных сообщениях — напишите мне в личку.
