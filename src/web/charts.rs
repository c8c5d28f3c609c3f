//! Charts for the dashboard as inline SVG, drawn on the server: no script, no library, and
//! nothing the CSP has to allow (geometry and colours are presentation attributes, never
//! `style=""`). A chart only draws numbers it is given; the table beside it is canonical, so
//! the drawing is `aria-hidden` and the chart's `<title>`/`<desc>` say what it shows.

use std::fmt::Write;

/// Series colours and line patterns, so the lines stay apart in greyscale and on paper.
const COLOURS: [&str; 3] = ["#0b3d91", "#075e63", "#0b6e2f"];
const DASHES: [&str; 3] = ["", "7 4", "2 3"];
const BAR: &str = "#0b3d91";
const INK: &str = "#1b1b1b";
const GRID: &str = "#b1b4b6";

/// A value axis from 0: a round step and a top that is a whole number of steps, at least
/// `max`. Counts get whole-number steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Scale {
    pub top: f64,
    pub step: f64,
}

impl Scale {
    pub fn new(max: f64, whole: bool) -> Scale {
        let max = if max.is_finite() && max > 0.0 {
            max
        } else {
            0.0
        };
        let mut step = nice_step(max / 4.0);
        if whole {
            step = step.max(1.0);
        }
        let top = ((max / step).ceil() * step).max(step);
        Scale { top, step }
    }

    /// The tick values from 0 to the top.
    pub fn ticks(&self) -> Vec<f64> {
        let n = (self.top / self.step).round() as usize;
        (0..=n).map(|i| i as f64 * self.step).collect()
    }

    /// Where `value` falls on an axis `length` long.
    pub fn at(&self, value: f64, length: f64) -> f64 {
        (value.max(0.0) / self.top).min(1.0) * length
    }
}

/// The smallest of 1, 2 or 5 × 10^k that is at least `x` (1 for nothing).
fn nice_step(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= x * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

/// A tick label: whole numbers without decimals, others with as few as they need.
pub fn tick_label(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        let s = format!("{value:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// Text for SVG, escaped: labels are names people typed.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// About how wide `text` is in ems: CJK and other wide characters one em, the rest half.
fn width_em(text: &str) -> f64 {
    text.chars()
        .map(|c| if (c as u32) >= 0x2E80 { 1.0 } else { 0.56 })
        .sum()
}

/// `text` cut to fit `ems`, with an ellipsis when cut (the table has the whole name).
fn fit(text: &str, ems: f64) -> String {
    if width_em(text) <= ems {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 1.0;
    for c in text.chars() {
        let w = width_em(c.encode_utf8(&mut [0; 4]));
        if used + w > ems {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

fn open(out: &mut String, id: &str, title: &str, desc: &str, width: f64, height: f64) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-labelledby="{id}-title {id}-desc" font-family="inherit"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc><g aria-hidden="true">"#,
        escape(title),
        escape(desc),
    );
}

fn close(out: &mut String) {
    out.push_str("</g></svg>");
}

/// One bar: its label, its value, and the value as the page writes it.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub text: String,
}

const HBAR_WIDTH: f64 = 400.0;
const HBAR_ROW: f64 = 46.0;
const FONT: f64 = 15.0;
const SMALL: f64 = 13.0;

/// Horizontal bars, one row each: the label above its bar with the value at the right end
/// of that line, and a value axis underneath. Long names fit a phone this way.
pub fn hbar(id: &str, title: &str, desc: &str, bars: &[Bar]) -> String {
    let scale = Scale::new(bars.iter().map(|b| b.value).fold(0.0, f64::max), true);
    let plot = HBAR_WIDTH;
    let axis_y = 8.0 + bars.len() as f64 * HBAR_ROW;
    let height = axis_y + 26.0;
    let mut out = String::new();
    open(&mut out, id, title, desc, HBAR_WIDTH, height);
    for (i, bar) in bars.iter().enumerate() {
        let top = 8.0 + i as f64 * HBAR_ROW;
        let length = scale.at(bar.value, plot);
        let room = (HBAR_WIDTH - width_em(&bar.text) * SMALL - 12.0) / FONT;
        let _ = write!(
            out,
            r#"<text x="0" y="{}" font-size="{FONT}" fill="{INK}">{}</text><text x="{HBAR_WIDTH}" y="{}" font-size="{SMALL}" fill="{INK}" text-anchor="end">{}</text><rect class="bar" x="0" y="{}" width="{length:.1}" height="16" fill="{BAR}"/>"#,
            top + FONT,
            escape(&fit(&bar.label, room)),
            top + FONT,
            escape(&bar.text),
            top + FONT + 6.0,
        );
    }
    let _ = write!(
        out,
        r#"<line x1="0" y1="{axis_y}" x2="{plot}" y2="{axis_y}" stroke="{GRID}"/>"#
    );
    let ticks = scale.ticks();
    for (i, &tick) in ticks.iter().enumerate() {
        let x = scale.at(tick, plot);
        let anchor = match i {
            0 => "start",
            _ if i + 1 == ticks.len() => "end",
            _ => "middle",
        };
        let _ = write!(
            out,
            r#"<line x1="{x:.1}" y1="{axis_y}" x2="{x:.1}" y2="{}" stroke="{GRID}"/><text class="tick" x="{x:.1}" y="{}" font-size="{SMALL}" fill="{INK}" text-anchor="{anchor}">{}</text>"#,
            axis_y + 5.0,
            axis_y + 20.0,
            tick_label(tick),
        );
    }
    close(&mut out);
    out
}

/// One line of a line chart, a value per period.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

const LINE_WIDTH: f64 = 360.0;
const LINE_HEIGHT: f64 = 220.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 26.0;
/// More points than this and the markers would touch; the lines alone remain.
const MAX_MARKERS: usize = 62;
/// At most this many period labels under the axis.
const MAX_X_LABELS: usize = 5;

fn marker(out: &mut String, kind: usize, x: f64, y: f64, colour: &str) {
    let _ = match kind % 3 {
        0 => write!(
            out,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="3.5" fill="{colour}"/>"#
        ),
        1 => write!(
            out,
            r#"<rect x="{:.1}" y="{:.1}" width="7" height="7" fill="{colour}"/>"#,
            x - 3.5,
            y - 3.5
        ),
        _ => write!(
            out,
            r#"<path d="M{x:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z" fill="{colour}"/>"#,
            y - 4.5,
            x + 4.5,
            y + 3.5,
            x - 4.5,
            y + 3.5
        ),
    };
}

/// Where a line chart puts its periods and values.
struct LinePlot {
    periods: usize,
    width: f64,
    height: f64,
    scale: Scale,
}

impl LinePlot {
    fn x_at(&self, i: usize) -> f64 {
        if self.periods <= 1 {
            LEFT + self.width / 2.0
        } else {
            LEFT + self.width * i as f64 / (self.periods - 1) as f64
        }
    }

    fn y_at(&self, v: f64) -> f64 {
        TOP + self.height - self.scale.at(v, self.height)
    }

    /// Grid lines and labels of the value axis.
    fn value_axis(&self, out: &mut String) {
        for tick in self.scale.ticks() {
            let y = self.y_at(tick);
            let _ = write!(
                out,
                r#"<line x1="{LEFT}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="{GRID}" stroke-width="0.6"/><text class="tick" x="{}" y="{:.1}" font-size="{SMALL}" fill="{INK}" text-anchor="end">{}</text>"#,
                LEFT + self.width,
                LEFT - 5.0,
                y + 4.0,
                tick_label(tick),
            );
        }
    }

    /// Period labels under the plot, thinned to at most `MAX_X_LABELS`.
    fn period_axis(&self, out: &mut String, x_labels: &[String]) {
        let n = self.periods;
        let every = n.div_ceil(MAX_X_LABELS).max(1);
        for (i, label) in x_labels.iter().enumerate() {
            if i % every != 0 {
                continue;
            }
            let anchor = match (n, i) {
                (1, _) => "middle",
                (_, 0) => "start",
                _ if i + 1 == n => "end",
                _ => "middle",
            };
            let _ = write!(
                out,
                r#"<text class="tick" x="{:.1}" y="{}" font-size="{SMALL}" fill="{INK}" text-anchor="{anchor}">{}</text>"#,
                self.x_at(i),
                LINE_HEIGHT - 8.0,
                escape(label),
            );
        }
    }

    /// Series `k`: its legend entry at `legend_x` (returning where the next one goes), its
    /// line, and its markers when there are few enough points to tell apart.
    fn series(&self, out: &mut String, k: usize, s: &Series, legend_x: f64) -> f64 {
        let colour = COLOURS[k % COLOURS.len()];
        let dash = DASHES[k % DASHES.len()];
        let dash_attr = if dash.is_empty() {
            String::new()
        } else {
            format!(r#" stroke-dasharray="{dash}""#)
        };
        let _ = write!(
            out,
            r#"<line x1="{legend_x}" y1="12" x2="{}" y2="12" stroke="{colour}" stroke-width="2.5"{dash_attr}/>"#,
            legend_x + 26.0,
        );
        marker(out, k, legend_x + 13.0, 12.0, colour);
        let _ = write!(
            out,
            r#"<text x="{}" y="17" font-size="{SMALL}" fill="{INK}">{}</text>"#,
            legend_x + 32.0,
            escape(&s.name),
        );
        let points: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .map(|(i, &v)| format!("{:.1},{:.1}", self.x_at(i), self.y_at(v)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline class="series" points="{}" fill="none" stroke="{colour}" stroke-width="2.5"{dash_attr}/>"#,
            points.join(" "),
        );
        if s.values.len() <= MAX_MARKERS {
            for (i, &v) in s.values.iter().enumerate() {
                marker(out, k, self.x_at(i), self.y_at(v), colour);
            }
        }
        legend_x + 32.0 + width_em(&s.name) * SMALL + 18.0
    }
}

/// Lines over periods (`x_labels`, one per value), each series with its own colour, dash
/// and marker and a legend on top; the value axis on the left from 0.
pub fn line(id: &str, title: &str, desc: &str, x_labels: &[String], series: &[Series]) -> String {
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0, f64::max);
    let plot = LinePlot {
        periods: x_labels.len(),
        width: LINE_WIDTH - LEFT - RIGHT,
        height: LINE_HEIGHT - TOP - BOTTOM,
        scale: Scale::new(max, true),
    };
    let mut out = String::new();
    open(&mut out, id, title, desc, LINE_WIDTH, LINE_HEIGHT);
    plot.value_axis(&mut out);
    plot.period_axis(&mut out, x_labels);
    let mut legend_x = LEFT;
    for (k, s) in series.iter().enumerate() {
        legend_x = plot.series(&mut out, k, s, legend_x);
    }
    let _ = write!(
        out,
        r#"<line x1="{LEFT}" y1="{}" x2="{}" y2="{}" stroke="{INK}"/>"#,
        TOP + plot.height,
        LEFT + plot.width,
        TOP + plot.height,
    );
    close(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticks_of(max: f64) -> Vec<String> {
        Scale::new(max, true)
            .ticks()
            .into_iter()
            .map(tick_label)
            .collect()
    }

    #[test]
    fn scales_round_up_to_whole_steps() {
        assert_eq!(ticks_of(3.0), ["0", "1", "2", "3"]);
        assert_eq!(ticks_of(7.0), ["0", "2", "4", "6", "8"]);
        assert_eq!(ticks_of(100.0), ["0", "50", "100"]);
        assert_eq!(ticks_of(1234.0), ["0", "500", "1000", "1500"]);
        assert_eq!(Scale::new(0.3, false).ticks().len(), 4);
        assert_eq!(tick_label(0.25), "0.25");
        assert_eq!(tick_label(2.5), "2.5");
    }

    #[test]
    fn zero_and_missing_maxima_give_a_unit_axis() {
        for max in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let s = Scale::new(max, true);
            assert_eq!(
                s,
                Scale {
                    top: 1.0,
                    step: 1.0
                },
                "{max}"
            );
            assert_eq!(s.at(0.0, 100.0), 0.0);
        }
        assert_eq!(Scale::new(4.0, true).at(9.0, 100.0), 100.0);
    }

    fn widths(svg: &str) -> Vec<f64> {
        svg.split(r#"<rect class="bar" "#)
            .skip(1)
            .map(|r| {
                let w = r.split("width=\"").nth(1).unwrap();
                w.split('"').next().unwrap().parse().unwrap()
            })
            .collect()
    }

    #[test]
    fn bars_are_proportional_with_labels_and_an_axis() {
        let bar = |label: &str, value: f64| Bar {
            label: label.into(),
            value,
            text: format!("{value} 件"),
        };
        let svg = hbar(
            "by-x",
            "各部门诉求数",
            "最多的是税务",
            &[bar("税务", 4.0), bar("市场监管", 2.0), bar("空", 0.0)],
        );
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains(r#"role="img" aria-labelledby="by-x-title by-x-desc""#));
        assert!(svg.contains(r#"<title id="by-x-title">各部门诉求数</title>"#));
        assert!(svg.contains(r#"<g aria-hidden="true">"#));
        assert!(!svg.contains("style="));
        assert_eq!(widths(&svg), [400.0, 200.0, 0.0]);
        assert!(svg.contains(">市场监管</text>"));
        assert!(svg.contains(r#"text-anchor="end">2 件</text>"#));
        assert!(svg.contains(r#"text-anchor="start">0</text>"#));
        assert!(svg.contains(r#"text-anchor="end">4</text>"#));
        for tick in ["1", "2", "3"] {
            assert!(svg.contains(&format!("text-anchor=\"middle\">{tick}</text>")));
        }
    }

    #[test]
    fn empty_and_all_zero_charts_draw_no_bars_and_no_nan() {
        let empty = hbar("e", "t", "d", &[]);
        assert!(empty.ends_with("</g></svg>"));
        assert!(widths(&empty).is_empty());
        let zero = hbar(
            "z",
            "t",
            "d",
            &[Bar {
                label: "a".into(),
                value: 0.0,
                text: "0".into(),
            }],
        );
        assert_eq!(widths(&zero), [0.0]);
        let flat = line("l", "t", "d", &[], &[]);
        assert!(!flat.contains("NaN") && !zero.contains("NaN"));
        let one = line(
            "l",
            "t",
            "d",
            &["2026-11".into()],
            &[Series {
                name: "新增".into(),
                values: vec![0.0],
            }],
        );
        assert!(!one.contains("NaN"));
        assert!(one.contains(r#"points="194.0,194.0""#), "{one}");
    }

    #[test]
    fn names_are_escaped_and_long_ones_cut() {
        let svg = hbar(
            "x",
            "<b>",
            "a & b",
            &[Bar {
                label: "<script>alert(1)</script>".repeat(5),
                value: 1.0,
                text: "1".into(),
            }],
        );
        assert!(!svg.contains("<script>") && !svg.contains("<b>"));
        assert!(svg.contains("&lt;b&gt;") && svg.contains("a &amp; b"));
        assert!(svg.contains('…'));
        assert_eq!(fit("税务服务", 10.0), "税务服务");
        assert_eq!(fit(&"长".repeat(40), 10.0), format!("{}…", "长".repeat(9)));
    }

    #[test]
    fn lines_have_one_polyline_per_series_and_thinned_period_labels() {
        let labels: Vec<String> = (1..=30).map(|d| format!("11-{d:02}")).collect();
        let series = |name: &str, v: f64| Series {
            name: name.into(),
            values: (0..30).map(|i| v * i as f64).collect(),
        };
        let svg = line(
            "trend",
            "趋势",
            "desc",
            &labels,
            &[
                series("新增", 1.0),
                series("办结", 0.5),
                series("关闭", 0.2),
            ],
        );
        assert_eq!(svg.matches("<polyline").count(), 3);
        assert!(svg.contains(r#"stroke-dasharray="7 4""#));
        assert!(svg.contains(r#"stroke-dasharray="2 3""#));
        let period_labels = svg.matches(">11-").count();
        assert!(period_labels <= MAX_X_LABELS, "{period_labels}");
        assert!(svg.contains(">11-01<"));
        // Top of the axis: 29 rounds up to 30 in steps of 10.
        assert!(svg.contains(r#"text-anchor="end">30</text>"#));
        // The first point sits on the left edge at 0, the last of the largest at the top.
        assert!(svg.contains(&format!("{LEFT:.1},{:.1}", LINE_HEIGHT - BOTTOM)));
        assert!(svg.contains(&format!(
            "{:.1},{:.1}",
            LINE_WIDTH - RIGHT,
            TOP + 160.0 / 30.0
        )));
    }
}
