//! User text made safe for where it is shown: HTML pages and terminals.
//!
//! Task ids, names, error messages and command output come from users and their commands, so
//! every human-facing output passes them through here: [`html`] for the report page, [`terminal`]
//! for everything printed (progress, summary, validation messages).

use std::borrow::Cow;
use std::fmt::Write as _;

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

/// Whether a terminal could act on `c` rather than show it: control characters (C0, DEL and C1:
/// newlines, ESC, BEL, ...) and the Unicode marks that reorder the text around them.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` safe to print on a terminal: every character a terminal would act on (a newline, ESC,
/// BEL, a bidirectional override...) is written as its escape (`\n`, `\t`, `\r`, `\u{1b}`), so a
/// task id cannot clear the screen or forge a line of output. Borrowed when nothing needs it.
pub(crate) fn terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
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

    #[test]
    fn terminal_escapes_what_a_terminal_would_act_on() {
        assert!(matches!(terminal("build-é 1"), Cow::Borrowed("build-é 1")));
        assert_eq!(terminal("a\nb"), "a\\nb");
        assert_eq!(terminal("\x1b[2J\x07"), "\\u{1b}[2J\\u{7}");
        assert_eq!(terminal("tab\there\r"), "tab\\there\\r");
        assert_eq!(terminal("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(terminal("\u{202e}txt.exe"), "\\u{202e}txt.exe");
        assert_eq!(terminal("\0"), "\\u{0}");
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            let shown = terminal(&c.to_string()).into_owned();
            assert!(shown.chars().all(|c| !c.is_control()), "{c:?} -> {shown:?}");
        }
    }
}
