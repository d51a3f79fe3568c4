//! A real headless Chromium, driven through ChromeDriver's WebDriver protocol (plain JSON over
//! loopback HTTP): pages are tested as a person's browser meets them. `.ci/run` installs
//! Debian's `chromium` and `chromium-driver`; without them the test fails, it never skips.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};

/// The W3C key of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A browser session; the browser and its driver stop when it is dropped.
pub struct Browser {
    driver: Child,
    address: String,
    session: String,
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium session.
    pub fn start() -> Browser {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let mut driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "chromedriver is installed (.ci/run: apt-get install chromium chromium-driver)",
            );
        let mut out = BufReader::new(driver.stdout.take().unwrap());
        let mut line = String::new();
        while !line.contains("started successfully") {
            line.clear();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "chromedriver stopped"
            );
        }
        // Keep draining its output so it never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let address = format!("127.0.0.1:{port}");
        let started = call(
            &address,
            "POST",
            "/session",
            &json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": "/usr/bin/chromium",
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                             "--disable-dev-shm-usage", "--window-size=1000,900"]
                }
            }}}),
        );
        let session = started["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {started}"))
            .to_owned();
        Browser {
            driver,
            address,
            session,
        }
    }

    fn call(&self, method: &str, path: &str, body: &Value) -> Value {
        call(
            &self.address,
            method,
            &format!("/session/{}{path}", self.session),
            body,
        )
    }

    /// Opens `url` and waits for it to load.
    pub fn open(&self, url: &str) {
        self.call("POST", "/url", &json!({ "url": url }));
    }

    /// Clicks the first element `css` selects (and waits for the page it leads to).
    pub fn click(&self, css: &str) {
        let found = self.call(
            "POST",
            "/element",
            &json!({"using": "css selector", "value": css}),
        );
        let id = found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element `{css}`: {found}"));
        self.call("POST", &format!("/element/{id}/click"), &json!({}));
    }

    /// Waits (up to 10 s, the driver's own wait) until a page shows a heading reading
    /// `heading`: a form's POST may still be on its way when its click returns.
    pub fn wait_for_heading(&self, heading: &str) {
        self.call("POST", "/timeouts", &json!({"implicit": 10_000}));
        self.call(
            "POST",
            "/element",
            &json!({"using": "xpath", "value": format!("//h1[normalize-space()='{heading}']")}),
        );
        self.call("POST", "/timeouts", &json!({"implicit": 0}));
    }

    /// How many elements `css` selects.
    pub fn count(&self, css: &str) -> usize {
        self.call(
            "POST",
            "/elements",
            &json!({"using": "css selector", "value": css}),
        )
        .as_array()
        .map_or(0, Vec::len)
    }

    /// The page's title.
    pub fn title(&self) -> String {
        self.call("GET", "/title", &Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's visible text.
    pub fn text(&self) -> String {
        let body = self.call(
            "POST",
            "/element",
            &json!({"using": "css selector", "value": "body"}),
        );
        let id = body[ELEMENT].as_str().unwrap().to_owned();
        self.call("GET", &format!("/element/{id}/text"), &Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The address the browser is at.
    pub fn url(&self) -> String {
        self.call("GET", "/url", &Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// A PNG of the window, written to `path` (to look at what a person sees).
    pub fn screenshot(&self, path: &std::path::Path) {
        let png = self.call("GET", "/screenshot", &Value::Null);
        std::fs::write(path, base64_decode(png.as_str().unwrap())).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(|| {
            call(
                &self.address,
                "DELETE",
                &format!("/session/{}", self.session),
                &Value::Null,
            )
        });
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// One WebDriver command: its `value`, or a panic with the driver's error.
fn call(address: &str, method: &str, path: &str, body: &Value) -> Value {
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // ChromeDriver keeps the connection open: read the head, then the body its length says.
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "{method} {path}: no answer"
        );
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or_else(|| panic!("{method} {path}: no Content-Length: {head}"));
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).unwrap();
    let text = String::from_utf8_lossy(&body).into_owned();
    let value: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}: {head}\n{text}"));
    assert!(
        value["value"]["error"].is_null(),
        "{method} {path}: {}",
        value["value"]
    );
    value["value"].clone()
}

/// Standard base64 (WebDriver's screenshots) to bytes.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let digits: Vec<u8> = text
        .bytes()
        .filter(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
        .map(value)
        .collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, d)| n | (u32::from(*d) << (18 - 6 * i)));
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}
