# Payments: what the user sees about money outside the bot's screens.

topped_up = ✅ Balance topped up: +{ $credits } credits, bonus +{ $bonus }. Balance: { $balance } credits.
# The payment description on YooKassa's page and in the receipt (sent in Russian).
yookassa_description = QwenEditBot top-up: { $credits } credits
yookassa_receipt_item = QwenEditBot credits ({ $credits })
stars_invoice_title = { $credits } credits
stars_invoice_description = QwenEditBot top-up: { $credits } credits + { $bonus } bonus
precheckout_unknown = This invoice is not valid. Please open “Top up” again.
precheckout_not_pending = This invoice has already been paid or has expired.
precheckout_mismatch = The invoice does not match the order. Please create a new one.
