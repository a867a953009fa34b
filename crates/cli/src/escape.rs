//! User text made safe for where it is shown: HTML pages and terminals.
//!
//! Task ids, names, error messages and command output come from users and their commands, so
//! every human-facing output passes them through here: [`html`] for the report page, [`terminal`]
//! for everything printed (progress, summary, validation messages).

/// `text` escaped for HTML text and (quoted) attribute values, SVG included: `&`, `<`, `>`, `"`
/// and `'` become character references.
pub(crate) fn html(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_covers_markup_quotes_and_ampersands() {
        assert_eq!(
            html("<script>alert('x') && \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp;&amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(html("a&b"), "a&amp;b");
        assert_eq!(html("plain text é"), "plain text é");
    }
}
