# Payments: what the user sees about money outside the bot's screens.

topped_up = ✅ Balance topped up: +{ $credits } credits, bonus +{ $bonus }. Balance: { $balance } credits.
# The payment description on YooKassa's page (in the payer's language); the receipt item
# (54-FZ) is always in Russian.
yookassa_description = QwenEditBot top-up: { $credits } credits
yookassa_receipt_item = QwenEditBot credits ({ $credits })
stars_invoice_title = { $credits } credits
stars_invoice_description = QwenEditBot top-up: { $credits } credits + { $bonus } bonus
precheckout_unknown = This invoice is not valid. Please open “Top up” again.
precheckout_not_pending = This invoice has already been paid or has expired.
precheckout_mismatch = The invoice does not match the order. Please create a new one.

# A finished payment's "Pay" message becomes one of these lines (its button is removed).
pay_message_paid = ✅ Paid: { $amount } { $currency }
pay_message_canceled = ✖️ The payment of { $amount } { $currency } did not go through
# A YooKassa payment declined, cancelled or expired at the checkout.
payment_canceled = The payment of { $amount } { $currency } did not go through: { $reason } Your balance is unchanged — you can try again.
cancel_reason_expired = the time to pay ran out.
cancel_reason_funds = the card has insufficient funds.
cancel_reason_declined = the bank or the payment system declined it.
cancel_reason_card = the card cannot be used for this payment (expiry, details or restrictions).
cancel_reason_3ds = the 3-D Secure check was not passed.
cancel_reason_canceled = the payment was cancelled.
cancel_reason_other = the payment was declined.
payment_btn_try_again = 🔄 Try again
precheckout_already = This invoice is already being paid. If the payment failed, create a new invoice in “Top up”.
# A Stars payment that could not be credited is refunded at once.
stars_refunded_uncredited = The payment of { $amount } ⭐ could not be credited — your stars were refunded. Create a new invoice in “Top up”.
