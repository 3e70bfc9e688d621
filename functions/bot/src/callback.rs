//! The data of an inline button, `prefix` or `prefix:arg1:…:argN` (at most 64 bytes, as
//! Telegram allows), and the screen a transition shows, named the same way.
//!
//! This module only reads and writes the format; which prefixes exist, with how many
//! arguments, is the screen registry's ([`crate::screens::ROUTES`], parsed by
//! [`crate::screens::parse_button`]). The one rule for the arguments: the last `arity - 1`
//! are split off from the right at `:`, the first keeps any `:` it contains (an id).

/// The main menu's prefix (every screen's "Main menu" button leads there).
pub const MENU: &str = "menu";

/// The prefix of a button no registered route knows (an old keyboard).
pub const UNKNOWN: &str = "unknown";

/// A button's callback data: a registered route's prefix and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    /// The route's prefix, e.g. `cat`.
    pub prefix: &'static str,
    /// Its arguments, as many as the route's arity, e.g. `["style", "0"]`.
    pub args: Vec<String>,
}

/// A screen to show is named like the button that leads to it (`cat:style:0`); a screen
/// no button leads to (the balance) has a route without a press.
pub type Screen = Button;

impl Button {
    /// The button of a route without arguments.
    pub fn to(prefix: &'static str) -> Button {
        Button::with(prefix, Vec::new())
    }

    /// The button of a route with `args`.
    pub fn with(prefix: &'static str, args: Vec<String>) -> Button {
        Button { prefix, args }
    }

    /// A button no route knows.
    pub fn unknown() -> Button {
        Button::to(UNKNOWN)
    }

    /// The `callback_data` of this button.
    pub fn data(&self) -> String {
        let mut data = self.prefix.to_owned();
        for a in &self.args {
            data.push(':');
            data.push_str(a);
        }
        data
    }
}

/// `data`'s prefix and what follows its first `:` (empty when there is none).
pub fn split(data: &str) -> (&str, &str) {
    data.split_once(':').unwrap_or((data, ""))
}

/// The `arity` arguments in `rest`, or `None` when they are not there: no argument needs an
/// empty `rest`; otherwise the first argument must not be empty.
pub fn args(rest: &str, arity: usize) -> Option<Vec<String>> {
    if arity == 0 {
        return rest.is_empty().then(Vec::new);
    }
    let mut parts: Vec<String> = rest.rsplitn(arity, ':').map(str::to_owned).collect();
    parts.reverse();
    let first_ok = parts.first().is_some_and(|p| !p.is_empty());
    (parts.len() == arity && first_ok).then_some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_split_from_the_right() {
        assert_eq!(args("", 0), Some(vec![]));
        assert_eq!(args("x", 0), None);
        assert_eq!(args("", 1), None);
        assert_eq!(args("a:b", 1), Some(vec!["a:b".to_owned()]));
        assert_eq!(
            args("a:b:3", 2),
            Some(vec!["a:b".to_owned(), "3".to_owned()])
        );
        assert_eq!(args("style", 2), None);
        assert_eq!(args(":3", 2), None);
        assert_eq!(split("cat:style:0"), ("cat", "style:0"));
        assert_eq!(split("menu"), ("menu", ""));
    }

    #[test]
    fn data_joins_prefix_and_arguments() {
        let b = Button::with("pkg", vec!["stars".into(), "100".into()]);
        assert_eq!(b.data(), "pkg:stars:100");
        assert_eq!(Button::to(MENU).data(), "menu");
        assert_eq!(Button::unknown().data(), "unknown");
    }
}
