# The GPU host: progress while a job runs, the result's caption, failures.

# { $bar } is ten blocks, ▓ done and ░ to go.
host_progress = ⏳ Обрабатываю фото… { $percent }%
    { $bar }
host_done = ✅ Готово!
host_failed_bad_input = 😔 Не удалось получить фото: возможно, оно больше 20 МБ. Отправьте фото поменьше. Средства возвращены на баланс.
host_failed_timeout = 😔 Обработка заняла слишком много времени и была остановлена. Средства возвращены на баланс.
host_failed_model = 😔 Не удалось обработать фото. Средства возвращены на баланс.
host_failed_unavailable = 😔 Сейчас не получается обработать фото. Попробуйте чуть позже. Средства возвращены на баланс.
