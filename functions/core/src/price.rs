//! The one price rule: what an edit costs a user. The bot shows it (a preset's screen, the
//! custom prompt, "Start") and the job's creation charges it, so nobody is shown one price
//! and charged another.

use crate::contract::UserId;
use crate::settings::Settings;

/// What an edit whose preset (or custom prompt) lists `list_price` credits costs
/// `telegram_id`: nothing for an admin or when `unlimited_processing` is on, else the list
/// price.
pub fn price_for(settings: &Settings, telegram_id: UserId, list_price: i64) -> i64 {
    if settings.unlimited_processing || settings.is_admin(telegram_id.0) {
        0
    } else {
        list_price
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(unlimited: bool, admins: &[i64]) -> Settings {
        Settings {
            unlimited_processing: unlimited,
            admin_ids: admins.to_vec(),
            ..Settings::default()
        }
    }

    #[test]
    fn users_pay_the_list_price() {
        assert_eq!(price_for(&settings(false, &[1]), UserId(2), 10), 10);
        assert_eq!(price_for(&settings(false, &[]), UserId(2), 0), 0);
    }

    #[test]
    fn admins_pay_nothing() {
        assert_eq!(price_for(&settings(false, &[1, 7]), UserId(7), 10), 0);
    }

    #[test]
    fn unlimited_processing_is_free_for_everyone() {
        assert_eq!(price_for(&settings(true, &[]), UserId(2), 25), 0);
    }
}
