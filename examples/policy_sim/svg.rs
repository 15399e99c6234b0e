//! The picture: polls per job against mean delay, one panel per
//! representative workload, one marker per policy (log–log). A hand-written
//! SVG: no plotting library in the crate's dependencies.

use std::fmt::Write;

use crate::models::Model;
use crate::report::{REPRESENTATIVE, find, index, short_title};
use crate::{Summary, Workload};

const PANEL_W: f64 = 380.0;
const PANEL_H: f64 = 300.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 34.0;
const BOTTOM: f64 = 46.0;
const LEGEND_H: f64 = 92.0;

const COLOURS: [&str; 9] = [
    "#d62728", "#ff9896", "#1f77b4", "#17becf", "#9467bd", "#8c564b", "#2ca02c", "#bcbd22",
    "#7f7f7f",
];

/// A log₁₀ axis over whole decades that hold `values`.
struct Axis {
    low: f64,
    high: f64,
}

impl Axis {
    fn covering(values: impl Iterator<Item = f64>) -> Axis {
        let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.filter(|v| v.is_finite()) {
            let v = v.max(0.01);
            low = low.min(v);
            high = high.max(v);
        }
        if !low.is_finite() {
            return Axis {
                low: 0.0,
                high: 1.0,
            };
        }
        let low = low.log10().floor();
        let high = high.log10().ceil().max(low + 1.0);
        Axis { low, high }
    }

    /// Where `value` falls, from 0 to 1.
    fn at(&self, value: f64) -> f64 {
        (value.max(0.01).log10() - self.low) / (self.high - self.low)
    }

    fn decades(&self) -> impl Iterator<Item = f64> {
        (self.low as i32..=self.high as i32).map(|e| 10f64.powi(e))
    }
}

fn label(value: f64) -> String {
    if value >= 1.0 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    }
}

fn panel(out: &mut String, x0: f64, y0: f64, workload: &Workload, results: &[Summary]) {
    let points: Vec<(Model, f64, f64)> = Model::ALL
        .iter()
        .map(|&m| {
            let s = results[index(m)];
            (m, s.mean_delay, s.polls)
        })
        .collect();
    let xs = Axis::covering(points.iter().map(|p| p.1));
    let ys = Axis::covering(points.iter().map(|p| p.2));
    let (w, h) = (PANEL_W - LEFT - RIGHT, PANEL_H - TOP - BOTTOM);
    let px = |v: f64| x0 + LEFT + xs.at(v) * w;
    let py = |v: f64| y0 + TOP + (1.0 - ys.at(v)) * h;
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}" font-size="13" font-weight="bold" text-anchor="middle">{}</text>"#,
        x0 + LEFT + w / 2.0,
        y0 + 20.0,
        short_title(workload)
    );
    let _ = writeln!(
        out,
        r##"<rect x="{:.1}" y="{:.1}" width="{w:.1}" height="{h:.1}" fill="none" stroke="#444"/>"##,
        x0 + LEFT,
        y0 + TOP
    );
    for d in xs.decades() {
        let x = px(d);
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text>"##,
            y0 + TOP,
            y0 + TOP + h,
            y0 + TOP + h + 15.0,
            label(d)
        );
    }
    for d in ys.decades() {
        let y = py(d);
        let _ = writeln!(
            out,
            r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"##,
            x0 + LEFT,
            x0 + LEFT + w,
            x0 + LEFT - 5.0,
            y + 4.0,
            label(d)
        );
    }
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">mean delay after completion (s, log)</text>"#,
        x0 + LEFT + w / 2.0,
        y0 + PANEL_H - 12.0
    );
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle" transform="rotate(-90 {:.1} {:.1})">polls per job (log)</text>"#,
        x0 + 14.0,
        y0 + TOP + h / 2.0,
        x0 + 14.0,
        y0 + TOP + h / 2.0
    );
    for (i, (model, x, y)) in points.iter().enumerate() {
        let (cx, cy) = (px(*x), py(*y));
        if *model == Model::CrateDefault {
            let _ = writeln!(
                out,
                r##"<rect x="{:.1}" y="{:.1}" width="10" height="10" fill="{}" stroke="#000"/>"##,
                cx - 5.0,
                cy - 5.0,
                COLOURS[i]
            );
        } else {
            // Later markers are smaller, so that policies on the same
            // spot show as rings.
            let r = 8.0 - 0.6 * i as f64;
            let _ = writeln!(
                out,
                r##"<circle cx="{cx:.1}" cy="{cy:.1}" r="{r:.1}" fill="{}" stroke="#333"/>"##,
                COLOURS[i]
            );
        }
    }
}

/// The whole picture, 2 × 2 panels and a legend.
pub fn scatter(workloads: &[Workload], results: &[Vec<Summary>]) -> String {
    let width = 2.0 * PANEL_W;
    let height = 2.0 * PANEL_H + LEGEND_H;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif">"#
    );
    out.push_str(r#"<rect width="100%" height="100%" fill="white"/>"#);
    out.push('\n');
    for (k, &choice) in REPRESENTATIVE.iter().enumerate() {
        if let Some((workload, summaries)) = find(workloads, results, choice) {
            let x0 = (k % 2) as f64 * PANEL_W;
            let y0 = (k / 2) as f64 * PANEL_H;
            panel(&mut out, x0, y0, workload, summaries);
        }
    }
    let top = 2.0 * PANEL_H + 10.0;
    let _ = writeln!(
        out,
        r#"<text x="{LEFT}" y="{top:.1}" font-size="12">Lower left is better: fewer polls and a shorter wait after the job ends. Square: the crate default.</text>"#
    );
    for (i, model) in Model::ALL.iter().enumerate() {
        let x = LEFT + (i % 3) as f64 * 240.0;
        let y = top + 22.0 + (i / 3) as f64 * 20.0;
        let _ = writeln!(
            out,
            r##"<circle cx="{x:.1}" cy="{:.1}" r="5" fill="{}" stroke="#333"/><text x="{:.1}" y="{y:.1}" font-size="12">{}</text>"##,
            y - 4.0,
            COLOURS[i],
            x + 10.0,
            model.short()
        );
    }
    out.push_str("</svg>\n");
    out
}
