//! Headless Chromium (Debian `chromium`) for the tests that look at pages as people
//! do: a screenshot decoded to pixels, and the DOM after rendering; and a plain
//! HTTP GET for the links on them.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A screenshot's pixels.
pub struct Shot {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The pixels, row by row.
    pub rgb: Vec<[u8; 3]>,
}

impl Shot {
    /// The share of pixels of exactly `colour`.
    pub fn share(&self, colour: [u8; 3]) -> f64 {
        self.rgb.iter().filter(|p| **p == colour).count() as f64 / self.rgb.len() as f64
    }

    /// How many colours it has (a page without text has few).
    pub fn colours(&self) -> usize {
        self.rgb
            .iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    }
}

fn chromium(dir: &Path) -> Command {
    let mut c = Command::new("chromium");
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
    ])
    .env("HOME", dir)
    .stderr(Stdio::null());
    c
}

/// A 1000x700 screenshot of `url` (`file://` or `http://`); `dir` holds Chromium's
/// profile and the image.
///
/// # Panics
/// Chromium is missing or fails, or the image cannot be read.
pub fn screenshot(url: &str, dir: &Path) -> Shot {
    let png = dir.join("shot.png");
    let _ = std::fs::remove_file(&png);
    let status = chromium(dir)
        .arg("--window-size=1000,700")
        .arg(format!("--screenshot={}", png.display()))
        .arg(url)
        .stdout(Stdio::null())
        .status()
        .expect("chromium is installed (cargo xtask integration installs it)");
    assert!(status.success(), "chromium failed: {status}");
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert!(channels >= 3, "{:?}", info.color_type);
    let rgb = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    Shot {
        width: info.width,
        height: info.height,
        rgb,
    }
}

/// The DOM of `url` once Chromium has rendered it.
///
/// # Panics
/// Chromium is missing or fails.
pub fn dom(url: &str, dir: &Path) -> String {
    let out = chromium(dir)
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("chromium is installed (cargo xtask integration installs it)");
    assert!(out.status.success(), "chromium failed: {}", out.status);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `GET path` from `addr` (`host:port`), exactly as written: the status and body.
///
/// # Panics
/// The server cannot be reached or answers no HTTP.
pub fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

/// The `href`s of a page that stay on its server (start with `/`).
pub fn local_links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|h| h.split('"').next())
        .filter(|h| h.starts_with('/'))
        .map(|h| h.replace("&amp;", "&"))
        .collect()
}
