//! The optional source-address allowlist of the YooKassa webhook (YooKassa signs nothing).
//! The caller's address comes from a configured header: Spin's `spin-client-addr`
//! (`ip:port`), or, behind a proxy, `x-forwarded-for`, whose last entry is the one our proxy
//! added (earlier entries are whatever the client claimed).

use std::net::IpAddr;

use crate::settings::SettingsError;

/// An address range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// Network address.
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
}

impl Cidr {
    /// Whether `ip` lies in the range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// Parses `a.b.c.d/n,…` (a bare address is /32 or /128); `off`, `none` or empty = no check.
///
/// # Errors
/// [`SettingsError`] naming the entry that does not parse.
pub fn parse(name: &'static str, value: &str) -> Result<Vec<Cidr>, SettingsError> {
    if matches!(value.trim(), "" | "off" | "none" | "*") {
        return Ok(Vec::new());
    }
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            parse_one(item).ok_or_else(|| SettingsError {
                name,
                reason: format!("{item:?} is not an address range"),
            })
        })
        .collect()
}

fn parse_one(item: &str) -> Option<Cidr> {
    let (addr, prefix) = match item.split_once('/') {
        Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
        None => (item.parse::<IpAddr>().ok()?, None),
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = prefix.unwrap_or(max);
    (prefix <= max).then_some(Cidr { addr, prefix })
}

/// The caller's address from a header value: `ip`, `ip:port`, `[v6]:port`, or a
/// comma-separated `x-forwarded-for` list (the last entry counts).
pub fn client_ip(header_value: &str) -> Option<IpAddr> {
    let last = header_value.rsplit(',').next()?.trim();
    if let Ok(ip) = last.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sock) = last.parse::<std::net::SocketAddr>() {
        return Some(sock.ip());
    }
    last.trim_start_matches('[').split(']').next()?.parse().ok()
}

/// Whether a request with `header_value` may pass: always when `ranges` is empty.
pub fn allowed(ranges: &[Cidr], header_value: Option<&str>) -> bool {
    if ranges.is_empty() {
        return true;
    }
    header_value
        .and_then(client_ip)
        .is_some_and(|ip| ranges.iter().any(|r| r.contains(ip)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::settings::YOOKASSA_RANGES;

    #[test]
    fn yookassa_ranges_match_their_addresses_only() {
        let r = parse("x", YOOKASSA_RANGES).expect("ranges");
        assert!(allowed(&r, Some("185.71.76.5:443")));
        assert!(allowed(&r, Some("77.75.156.11")));
        assert!(allowed(&r, Some("[2a02:5180::1]:80")));
        assert!(!allowed(&r, Some("77.75.156.12:1")));
        assert!(!allowed(&r, Some("185.71.76.32:1")));
        assert!(!allowed(&r, None));
        assert!(allowed(&r, Some("1.2.3.4, 185.71.77.1")));
        assert!(!allowed(&r, Some("185.71.77.1, 1.2.3.4")));
        assert!(allowed(&[], None));
    }
}
