//! Line charts as inline SVG: no script, no image host. A week without data is a gap in the
//! line (never a zero), a target is a dashed line, every point names its week and value, and
//! each chart sits beside a table with the same numbers.

use crate::web::escape;
use std::fmt::Write;

/// One chart: a value per week, where there is one.
pub(super) struct Series<'a> {
    /// What it shows ("Lead time, hours").
    pub title: &'a str,
    /// Each week's short name, the page behind it, and its value (`None`: no data that week).
    pub points: Vec<(String, String, Option<f64>)>,
    /// How a value is written.
    pub format: fn(f64) -> String,
    /// A reference line and its label (the team's target).
    pub target: Option<(f64, String)>,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 28.0;

/// The chart as an SVG figure.
pub(super) fn line(series: &Series<'_>) -> String {
    let values = series.points.iter().filter_map(|(_, _, v)| *v);
    let top = values
        .chain(series.target.iter().map(|(t, _)| *t))
        .fold(0.0f64, f64::max);
    let top = if top > 0.0 { top * 1.1 } else { 1.0 };
    let n = series.points.len().max(1);
    let step = (WIDTH - LEFT - RIGHT) / (n.saturating_sub(1).max(1)) as f64;
    let x = |i: usize| LEFT + step * i as f64;
    let y = |v: f64| TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - v / top);
    let mut svg = format!(
        "<figure>\n<svg viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"100%\" role=\"img\" aria-label=\"{title}\" style=\"max-width:{WIDTH}px\">\n",
        title = escape(series.title)
    );
    // Axes: zero and the top, in the series' own unit.
    let _ = writeln!(
        svg,
        "<line x1=\"{LEFT}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"currentColor\" stroke-opacity=\".4\"/>\n\
         <text x=\"{lx}\" y=\"{b}\" text-anchor=\"end\" font-size=\"11\" fill=\"currentColor\">{zero}</text>\n\
         <text x=\"{lx}\" y=\"{t}\" text-anchor=\"end\" font-size=\"11\" fill=\"currentColor\">{max}</text>",
        b = y(0.0),
        r = WIDTH - RIGHT,
        lx = LEFT - 24.0,
        t = TOP + 4.0,
        zero = escape(&(series.format)(0.0)),
        max = escape(&(series.format)(top)),
    );
    if let Some((target, label)) = &series.target {
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{ty:.1}\" x2=\"{r}\" y2=\"{ty:.1}\" stroke=\"#bf8700\" stroke-dasharray=\"6 4\"><title>{label}</title></line>\n\
             <text x=\"{r}\" y=\"{ly:.1}\" text-anchor=\"end\" font-size=\"11\" fill=\"#bf8700\">{label}</text>",
            ty = y(*target),
            ly = y(*target) - 4.0,
            r = WIDTH - RIGHT,
            label = escape(label),
        );
    }
    // The line, broken wherever a week has no data.
    let mut path = String::new();
    let mut drawing = false;
    for (i, (_, _, value)) in series.points.iter().enumerate() {
        match value {
            Some(v) => {
                let _ = write!(
                    path,
                    "{}{:.1} {:.1} ",
                    if drawing { "L" } else { "M" },
                    x(i),
                    y(*v)
                );
                drawing = true;
            }
            None => drawing = false,
        }
    }
    if !path.is_empty() {
        let _ = writeln!(
            svg,
            "<path d=\"{}\" fill=\"none\" stroke=\"#0969da\" stroke-width=\"2\"/>",
            path.trim_end()
        );
    }
    // Each week's label and point open that week's page: what is behind the number.
    for (i, (week, href, value)) in series.points.iter().enumerate() {
        let _ = writeln!(
            svg,
            "<a href=\"{}\"><text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" fill=\"currentColor\">{}</text>",
            escape(href),
            x(i),
            HEIGHT - 8.0,
            escape(week)
        );
        match value {
            Some(v) => {
                let _ = writeln!(
                    svg,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"#0969da\"><title>{}: {}</title></circle>",
                    x(i),
                    y(*v),
                    escape(week),
                    escape(&(series.format)(*v))
                );
            }
            None => {
                let _ = writeln!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\" fill=\"currentColor\" fill-opacity=\".6\" class=\"gap\">no data</text>",
                    x(i),
                    y(0.0) - 10.0,
                );
            }
        }
        svg.push_str("</a>\n");
    }
    let _ = write!(
        svg,
        "</svg>\n<figcaption>{}</figcaption>\n</figure>\n",
        escape(series.title)
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::{Series, line};

    fn series(points: &[Option<f64>]) -> Series<'static> {
        Series {
            title: "Lead time",
            points: points
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    (
                        format!("W{}", 40 + i),
                        format!("?week=2026-W{}", 40 + i),
                        *v,
                    )
                })
                .collect(),
            format: |v| format!("{v:.1} h"),
            target: None,
        }
    }

    #[test]
    fn a_week_without_data_breaks_the_line_and_says_so() {
        let svg = line(&series(&[Some(2.0), Some(4.0), None, Some(3.0)]));
        let path = svg.split("d=\"").nth(1).unwrap().split('"').next().unwrap();
        // Two pieces: W40–W41, then W43 alone; W42 is never drawn at zero.
        assert_eq!(path.matches('M').count(), 2, "{path}");
        assert_eq!(path.matches('L').count(), 1, "{path}");
        assert_eq!(svg.matches("class=\"gap\">no data").count(), 1);
        assert!(svg.contains("<title>W41: 4.0 h</title>"));
        assert!(!svg.contains("W42: "), "{svg}");
        // Every week opens its own page, the gap too.
        assert_eq!(svg.matches("<a href=\"?week=2026-W").count(), 4);
    }

    #[test]
    fn a_target_is_a_labelled_reference_line_and_labels_are_escaped() {
        let mut s = series(&[Some(70.0), Some(75.0)]);
        s.target = Some((80.0, "target <80%>".into()));
        let svg = line(&s);
        assert!(svg.contains("stroke-dasharray"));
        assert!(svg.contains("target &lt;80%&gt;"));
        assert!(!svg.contains("<80%>"));
    }
}
