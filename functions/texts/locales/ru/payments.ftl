# Payments: what the user sees about money outside the bot's screens.

topped_up = ✅ Баланс пополнен: +{ $credits } кредитов, бонус +{ $bonus }. Баланс: { $balance } кредитов.
# The payment description on YooKassa's page (in the payer's language); the receipt item
# (54-FZ) is always in Russian.
yookassa_description = Пополнение баланса QwenEditBot: { $credits } кредитов
yookassa_receipt_item = Кредиты QwenEditBot ({ $credits })
stars_invoice_title = { $credits } кредитов
stars_invoice_description = Пополнение QwenEditBot: { $credits } кредитов + { $bonus } бонус
precheckout_unknown = Этот счёт недействителен. Откройте «Пополнить» ещё раз.
precheckout_not_pending = Этот счёт уже оплачен или больше не действует.
precheckout_mismatch = Счёт не совпадает с заказом. Создайте новый.

# A finished payment's "Pay" message becomes one of these lines (its button is removed).
pay_message_paid = ✅ Оплачено: { $amount } { $currency }
pay_message_canceled = ✖️ Платёж на { $amount } { $currency } не состоялся
# A YooKassa payment declined, cancelled or expired at the checkout.
payment_canceled = Платёж на { $amount } { $currency } не прошёл: { $reason } Баланс не изменился — можно попробовать ещё раз.
cancel_reason_expired = время на оплату истекло.
cancel_reason_funds = на карте недостаточно средств.
cancel_reason_declined = банк или платёжная система отклонили платёж.
cancel_reason_card = карту нельзя использовать для этой оплаты (срок, данные или ограничения).
cancel_reason_3ds = не пройдено подтверждение 3-D Secure.
cancel_reason_canceled = платёж отменён.
cancel_reason_other = платёж отклонён.
payment_btn_try_again = 🔄 Попробовать ещё раз
precheckout_already = Этот счёт уже оплачивается. Если оплата не прошла, создайте новый счёт в «Пополнить».
# A Stars payment that could not be credited is refunded at once.
stars_refunded_uncredited = Платёж на { $amount } ⭐ не удалось зачислить — звёзды возвращены. Создайте новый счёт в «Пополнить».
