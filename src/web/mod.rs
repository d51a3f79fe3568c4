//! Pages Keel serves to people rather than to GitHub: the one-click registration of the App
//! ([`setup`]). Pages are plain server-rendered HTML that needs no JavaScript; every value
//! written into one goes through [`escape`].

pub mod dashboard;
pub mod setup;

/// `text` made safe inside HTML text and inside a double- or single-quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `text` escaped, with its `backticked` spans set as code.
pub fn with_code(text: &str) -> String {
    escape(text)
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_owned()
            }
        })
        .collect()
}

/// A page as an answer: no script may run, no other site may frame it, forms post only to
/// `form_action` (and back here), and no address leaks to the sites it links to.
fn answer(
    status: axum::http::StatusCode,
    form_action: &str,
    html: String,
) -> axum::response::Response {
    use axum::http::header;
    let policy = format!(
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' {form_action}; base-uri 'none'; frame-ancestors 'none'"
    );
    axum::response::Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CONTENT_SECURITY_POLICY, policy)
        .header(header::REFERRER_POLICY, "no-referrer")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::CACHE_CONTROL, "no-store")
        .body(axum::body::Body::from(html))
        .expect("static headers")
}

/// A whole page: `title` and `body` (already HTML) in Keel's plain layout.
fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n",
        title = escape(title),
    )
}

/// Readable on any screen, light or dark, without a stylesheet of its own to fetch.
const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1f2328;background:#fff}\
main{max-width:60rem;margin:2rem auto;padding:0 1rem}\
table{border-collapse:collapse;margin:1rem 0}th,td{text-align:left;padding:.25rem .75rem .25rem 0;border-bottom:1px solid #d0d7de}\
code{font-family:ui-monospace,monospace;background:#f6f8fa;padding:0 .2rem}\
button{font:inherit;padding:.5rem 1rem;border-radius:6px;border:1px solid #1f883d;background:#1f883d;color:#fff;cursor:pointer}\
@media (prefers-color-scheme:dark){body{color:#e6edf3;background:#0d1117}code{background:#161b22}th,td{border-color:#30363d}}";

#[cfg(test)]
mod tests {
    use super::{escape, with_code};

    #[test]
    fn backticked_spans_become_code_and_the_rest_stays_text() {
        assert_eq!(
            with_code("for `[security] source = \"x\"` <b>"),
            "for <code>[security] source = &quot;x&quot;</code> &lt;b&gt;"
        );
    }

    #[test]
    fn markup_and_quotes_are_escaped() {
        assert_eq!(
            escape(r#"<a href="x" onclick='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }
}
