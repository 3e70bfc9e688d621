//! Charts as server-rendered SVG: bars of a series (jobs per hour, queue length) and one
//! horizontal bar per host (GPU busy). Colours come from the stylesheet's classes.

use crate::html::esc;

const W: f64 = 480.0;
const H: f64 = 140.0;

/// Vertical bars of `values` (oldest first) under `title`, the largest value on the axis,
/// `first`/`last` labelling both ends.
pub fn bars(title: &str, values: &[i64], first: &str, last: &str) -> String {
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let n = values.len().max(1) as f64;
    let slot = W / n;
    let rects: String = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let h = (*v).max(0) as f64 / max * (H - 20.0);
            format!(
                "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\"><title>{v}</title></rect>",
                i as f64 * slot + 1.0,
                H - h,
                (slot - 2.0).max(1.0)
            )
        })
        .collect();
    format!(
        "<figure class=\"chart\"><figcaption>{}</figcaption><svg viewBox=\"0 -14 {W} {}\" role=\"img\" aria-label=\"{}\">\
         <text class=\"axis\" x=\"0\" y=\"-2\">max {}</text>{rects}<line class=\"base\" x1=\"0\" y1=\"{H}\" x2=\"{W}\" y2=\"{H}\"/>\
         <text class=\"axis\" x=\"0\" y=\"{}\">{}</text><text class=\"axis end\" x=\"{W}\" y=\"{}\">{}</text></svg></figure>",
        esc(title),
        H + 30.0,
        esc(title),
        max as i64,
        H + 14.0,
        esc(first),
        H + 14.0,
        esc(last)
    )
}

/// One bar per `(name, busy ratio 0–1, stale)`; a stale host's bar is red.
pub fn hosts(title: &str, hosts: &[(String, f64, bool)]) -> String {
    let row = 22.0;
    let rows: String = hosts
        .iter()
        .enumerate()
        .map(|(i, (name, ratio, stale))| {
            let y = i as f64 * row;
            let w = ratio.clamp(0.0, 1.0) * (W - 160.0);
            let class = if *stale { "bar stale" } else { "bar" };
            format!(
                "<text class=\"axis\" x=\"0\" y=\"{:.1}\">{}</text><rect class=\"track\" x=\"110\" y=\"{y:.1}\" width=\"{:.1}\" height=\"16\"/>\
                 <rect class=\"{class}\" x=\"110\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"16\"/><text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\">{:.0}%</text>",
                y + 12.0,
                esc(name),
                W - 160.0,
                W - 44.0,
                y + 12.0,
                ratio * 100.0
            )
        })
        .collect();
    let h = (hosts.len().max(1) as f64) * row;
    format!(
        "<figure class=\"chart\"><figcaption>{}</figcaption><svg viewBox=\"0 0 {W} {h}\" role=\"img\" aria-label=\"{}\">{rows}</svg></figure>",
        esc(title),
        esc(title)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_escaped_and_bars_counted() {
        let svg = super::bars("<x>", &[0, 3, 1], "a", "b");
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("&lt;x&gt;") && !svg.contains("<x>"));
        let h = super::hosts("t", &[("<h>".into(), 0.5, true)]);
        assert!(h.contains("bar stale") && h.contains("&lt;h&gt;") && h.contains("50%"));
    }
}
