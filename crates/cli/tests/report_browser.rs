//! The HTML report in a real browser: headless Chromium renders the page at a desktop's and a
//! phone's width; the summary's share bars and each registry's time series get a size, the
//! changes are marked, nothing is wider than the window, and a screenshot is taken. `.ci/run` installs Debian's `chromium` and sets
//! `ACRLENS_REQUIRE_BROWSER=1`, so there a missing browser fails the test; on a developer's machine
//! without it the test says so and checks nothing else.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::sample_report;

fn chromium() -> Option<PathBuf> {
    let candidates = [
        std::env::var("CHROMIUM").unwrap_or_default(),
        "/usr/bin/chromium".into(),
        "/usr/bin/chromium-browser".into(),
    ];
    candidates
        .into_iter()
        .filter(|c| !c.is_empty())
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Runs headless Chromium with the flags a closed network needs.
fn headless(browser: &Path, profile: &Path, args: &[&str]) -> String {
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
        ])
        .args([
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Measures the rendered page: the summary's share bars and the time series' bars (how many,
/// how many got a size), the marks of changes, whether the summary comes before the violations,
/// and whether the page is wider than the window (tables scroll inside their own box).
const MEASURE: &str = "<script>const sized=s=>[...document.querySelectorAll(s)]\
.filter(b=>{const x=b.getBoundingClientRect();return x.width>0&&x.height>0}).length;\
const all=s=>document.querySelectorAll(s).length;\
const h2=[...document.querySelectorAll('h2')];const at=t=>h2.find(h=>h.textContent===t).getBoundingClientRect().top;\
document.body.setAttribute('data-measure',[all('svg.shares rect.share'),sized('svg.shares rect.share'),\
all('svg.series rect.bar'),sized('svg.series rect.bar'),all('svg.series g.mark'),\
at('Registries')<at('Over time')&&at('Over time')<at('Violations')?1:0,\
document.documentElement.scrollWidth<=window.innerWidth+1?1:0].join('/'));</script>";

/// What [`MEASURE`] found at one window width.
#[derive(Debug)]
struct Measured {
    shares: (usize, usize),
    bars: (usize, usize),
    marks: usize,
    summary_first: bool,
    fits: bool,
}

fn measure(browser: &Path, dir: &Path, page: &Path, width: u32) -> Measured {
    let dom = headless(
        browser,
        &dir.join(format!("profile-{width}")),
        &[
            &format!("--window-size={width},900"),
            "--dump-dom",
            &format!("file://{}", page.display()),
        ],
    );
    let found = dom
        .split("data-measure=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no measurement in {dom}"));
    let n: Vec<usize> = found.split('/').map(|v| v.parse().unwrap()).collect();
    Measured {
        shares: (n[0], n[1]),
        bars: (n[2], n[3]),
        marks: n[4],
        summary_first: n[5] == 1,
        fits: n[6] == 1,
    }
}

#[test]
fn the_html_report_renders_its_summary_and_time_series_on_desktop_and_phone() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("ACRLENS_REQUIRE_BROWSER").is_none(),
            "ACRLENS_REQUIRE_BROWSER is set but no chromium was found (set CHROMIUM to its path)"
        );
        eprintln!(
            "chromium is not installed (`apt-get install chromium`; .ci/run installs it): browser check not run"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.html");
    let out = sample_report("html", &["--out", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        !html.contains("<script"),
        "the report itself runs no script"
    );
    assert!(html.contains("<details>"), "long reasons are folded");
    let measured = dir.path().join("measured.html");
    std::fs::write(
        &measured,
        html.replace("</body>", &format!("{MEASURE}</body>")),
    )
    .unwrap();
    for width in [1280, 390] {
        let m = measure(&browser, dir.path(), &measured, width);
        // Two registries; contoso's requests took every path of the samples.
        assert!(
            m.shares.0 >= 9 && m.shares.1 == m.shares.0,
            "{width}px: {m:?}"
        );
        assert!(m.bars.0 >= 6 && m.bars.1 == m.bars.0, "{width}px: {m:?}");
        assert_eq!(
            m.marks, 3,
            "{width}px: contoso's three configuration changes"
        );
        assert!(
            m.summary_first,
            "{width}px: summary, then time series, then violations"
        );
        assert!(m.fits, "{width}px: the page is wider than the window");
        let png = dir.path().join(format!("report-{width}.png"));
        headless(
            &browser,
            &dir.path().join(format!("profile-{width}")),
            &[
                &format!("--screenshot={}", png.display()),
                &format!("--window-size={width},2400"),
                &format!("file://{}", report.display()),
            ],
        );
        let bytes = std::fs::read(&png).unwrap();
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000,
            "screenshot of {} bytes",
            bytes.len()
        );
    }
}
