//! Text that lands in hand-written HTML.
//!
//! Leptos escapes text it renders in the body, but not everything reaches
//! the page through it: leptos_meta writes a `<Title>`'s text into the head
//! as it is, and a few responses are written by hand. Names, descriptions,
//! tags and paths are written by other people and may be hostile; whatever
//! of them lands in such places goes through [`escape`].

/// `s` as HTML text, safe inside an element and inside a quoted attribute.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
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
    fn markup_and_attribute_breakers_become_text() {
        assert_eq!(
            escape(r#"</title><meta http-equiv="refresh" content='0'>&"#),
            "&lt;/title&gt;&lt;meta http-equiv=&quot;refresh&quot; content=&#39;0&#39;&gt;&amp;"
        );
        assert_eq!(
            escape("prod/payments/db · ünïcode"),
            "prod/payments/db · ünïcode"
        );
    }
}
