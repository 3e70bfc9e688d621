# Payments: what the user sees about money outside the bot's screens.

topped_up = ✅ Баланс пополнен: +{ $credits } кредитов, бонус +{ $bonus }. Баланс: { $balance } кредитов.
# The payment description on YooKassa's page and in the receipt (54-FZ: in Russian).
yookassa_description = Пополнение баланса QwenEditBot: { $credits } кредитов
yookassa_receipt_item = Кредиты QwenEditBot ({ $credits })
stars_invoice_title = { $credits } кредитов
stars_invoice_description = Пополнение QwenEditBot: { $credits } кредитов + { $bonus } бонус
precheckout_unknown = Этот счёт недействителен. Откройте «Пополнить» ещё раз.
precheckout_not_pending = Этот счёт уже оплачен или больше не действует.
precheckout_mismatch = Счёт не совпадает с заказом. Создайте новый.
