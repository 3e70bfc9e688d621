# English texts of the bot (Fluent syntax: { $name } is an argument).
# Every key here must also exist in the other language (tested).

btn_back = 🔙 Back
btn_main_menu = 🏠 Main menu
btn_presets = 🎨 Presets
btn_custom = ✍️ Custom prompt
btn_profile = 👤 Profile
btn_topup = 💳 Top up
btn_language = 🌐 Язык / Language
btn_help = ❓ Help
btn_start_job = 🚀 Start ({ $cost } credits · { $wait })
btn_cancel_job = ❌ Cancel the job
btn_prev = ◀️ Previous
btn_next = Next ▶️
btn_lang_ru = 🇷🇺 Русский
btn_lang_en = 🇬🇧 English
btn_method_yookassa_card = 💳 Bank card
btn_method_yookassa_sbp = 🏦 SBP
btn_method_stars = ⭐ Telegram Stars
btn_package_rub = { $amount } ₽ → { $credits } credits
btn_package_rub_bonus = { $amount } ₽ → { $credits } + { $bonus } credits
btn_package_stars = { $amount } ⭐ → { $credits } credits
btn_package_stars_bonus = { $amount } ⭐ → { $credits } + { $bonus } credits
btn_pay = 💳 Pay
greeting_new =
    👋 Hi, { $name }! I edit photos as you describe, with the Qwen-Image-Edit model.
    🎁 You got { $bonus } credits — balance: { $balance } credits.
greeting_back = 👋 Welcome back, { $name }! Balance: { $balance } credits.
main_menu = Main menu. Pick a preset or describe the edit in your own words:
help =
    ❓ How it works
    1. "🎨 Presets" — ready-made edits, or "✍️ Custom prompt" — describe the edit yourself.
    2. Send a photo (up to 3, as an album or one by one), as a photo or as a JPEG, PNG or WEBP file.
    3. Press "Start" — the result arrives in this chat.

    Commands:
    /start — start
    /menu — main menu
    /balance — balance
    /cancel — leave the current action
    /lang — language
    /help — this help
balance = 💰 Your balance: { $balance } credits.
in_edits = That is ≈ { $edits } edits at { $price } credits each.
price_per_edit = One edit costs { $price } credits.
categories = 🎨 Choose a category:
categories_empty = No presets yet.
presets_header = { $category } — page { $page } of { $pages }:
presets_header_one = { $category }:
preset_line =
    • { $name } — { $cost } credits
    {"   "}{ $description }
preset_chosen =
    Preset "{ $name }" — { $cost } credits.
    { $description }

    📷 Send a photo (up to 3, as an album or one by one), then press "Start".
preset_not_found = This preset is no longer available. Please pick another one.
custom_ask_photo =
    ✍️ Custom prompt — { $cost } credits.
    📷 Send a photo (up to 3), then write what to change.
custom_ask_prompt = 📷 Photos: { $count } of 3. Write what to change (1 to 500 characters), or send another photo.
image_added = 📷 Photo { $count } of 3 received. Send more or press "Start".
album_received = 📷 Album received. When all photos are uploaded, press "Start".
album_received_custom = 📷 Album received. Now write what to change (1 to 500 characters).
image_limit = One edit takes at most 3 photos — this one was not added. Press "Start" or /cancel.
not_image = This file is not an image. Send a photo or a JPEG, PNG or WEBP file.
image_unexpected = First pick a preset or "Custom prompt", then send the photo.
custom_write_prompt = Write what to change in the photo (1 to 500 characters).
need_image = Please send a photo first.
# The expected wait: on the Start button and in the "job accepted" reply.
wait_seconds = ≈ { $n } s
wait_minutes = ≈ { $n } min
wait_hours = ≈ { $n } h
wait_paused_short = queue paused
job_wait = ⏱ Expected wait: { $wait }.
job_wait_paused = ⏸ The queue is paused: no GPU is online right now. Your job will start as soon as one is back.
prompt_invalid = The prompt must be 1 to 500 characters
prompt_too_long = The prompt is over 500 characters: yours has { $chars }. Shorten it and send it again.
job_created =
    ✅ Job accepted: { $job_id }
    Cost: { $cost } credits, balance: { $balance } credits.
    Ahead of you in the queue: { $ahead }.
    { $wait }
job_cancelled = Job { $job_id } cancelled, { $cost } credits returned. Balance: { $balance } credits.
job_cancel_failed = The job is already being processed or finished — it cannot be cancelled.
insufficient = Not enough credits: { $needed } needed, your balance is { $balance }. You are { $shortfall } credits short.
too_many_jobs = ⏳ You already have { $cap } unfinished edits, the most at a time. Wait for one to finish and press Start again: your photos are kept.
profile =
    👤 Profile
    Balance: { $balance } credits
    Jobs in total: { $jobs }
profile_ledger = Recent operations:
profile_jobs = Recent jobs:
profile_none = —
kind_signup_bonus = signup bonus
kind_job_charge = edit
kind_job_refund = refund
kind_topup = top-up
kind_topup_bonus = top-up bonus
kind_topup_refund = top-up refund
kind_admin_adjustment = adjustment
status_queued = ⏳ queued
status_running = ⚙️ processing
status_succeeded = ✅ done
status_failed = ❌ failed (refunded)
status_cancelled = 🚫 cancelled (refunded)
topup =
    💳 Top up your balance. Balance: { $balance } credits.
    Choose a payment method:
topup_packages_yookassa_card = 💳 Bank card. Choose a package:
topup_packages_yookassa_sbp = 🏦 SBP (Faster Payments System). Choose a package:
topup_packages_stars = ⭐ Telegram Stars. Choose a package:
topup_pay =
    Payment of { $amount } { $currency } for { $credits } credits (bonus +{ $bonus }).
    Press “Pay” — the balance is topped up as soon as the payment arrives.
topup_failed = Sorry, the payment could not be started right now. Please try again a little later or choose another method.
topup_invalid = This package is no longer available. Please open “Top up” again.
language = 🌐 Выберите язык / Choose your language:
language_set = Language: English.
unknown_command = Unknown command. See /help for the list.
use_menu = I did not understand that. Please use the menu buttons.
unsupported = I understand photos, images sent as files (JPEG, PNG, WEBP), text and buttons.
cancelled = Cancelled.
state_reset = Your session expired — back to the main menu.
stale_button = This button is out of date.
error_generic = Something went wrong, please try again.
stats =
    📊 Statistics (UTC)
    Users: { $users }, new today: { $users_today }
    Jobs today: { $jobs } — queued { $queued }, running { $running }, done { $succeeded }, failed { $failed }, cancelled { $cancelled }
    Waiting for a GPU now: { $queued_now } (in the stream: { $waiting } unread, { $pending } on a GPU host)
    Top-ups today: { $topups }, { $topup_credits } credits.
adjust_usage = Usage: /adjust <telegram_id> <amount> <reason>
adjusted = Balance of { $user } changed by { $amount } credits: now { $balance } credits.
user_not_found = User not found.
cmd_start = Start
cmd_menu = Main menu
cmd_help = Help
cmd_balance = Balance
cmd_cancel = Leave the current action
cmd_lang = Language

# An update from a group, supergroup or channel: the bot works in private chats only.
private_only = I only work in private chats — please write to me directly.
