//! Credentials out of what people and tasks see: a URL's password (`user:pass@host`)
//! becomes `***` wherever a URL is printed, logged, shown by `taskotron config` or
//! handed to a task. *Invariant: no I/O.*

/// `uri` with the password of its user information replaced by `***`; anything
/// without one comes back as it is.
pub fn url(uri: &str) -> String {
    in_text(uri)
}

/// `text` with the password of every `scheme://user:password@host` in it replaced by
/// `***` (error messages quote URLs).
pub fn in_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        // The authority ends at the path, query, fragment or anything a URL cannot hold.
        let end = after
            .find(|c: char| {
                matches!(c, '/' | '?' | '#')
                    || c.is_whitespace()
                    || c == '"'
                    || c == '\''
                    || c == '`'
                    || c == '<'
                    || c == '>'
            })
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _password)) => {
                    out.push_str(user);
                    out.push_str(":***@");
                    out.push_str(host);
                }
                None => out.push_str(authority),
            },
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// True when `text` holds a URL with a password.
pub fn has_password(text: &str) -> bool {
    in_text(text) != text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_go_users_and_hosts_stay() {
        assert_eq!(
            url("http://user:pa:ss@rdb.example:8080/api/v2.0?x=1"),
            "http://user:***@rdb.example:8080/api/v2.0?x=1"
        );
        assert_eq!(
            url("amqps://guest:guest@127.0.0.1/%2f"),
            "amqps://guest:***@127.0.0.1/%2f"
        );
        assert_eq!(
            url("https://koji.example/kojihub"),
            "https://koji.example/kojihub"
        );
        assert_eq!(url("https://user@host/x"), "https://user@host/x");
        assert_eq!(url("not a url"), "not a url");
        // `@` in a path is not user information.
        assert_eq!(url("https://host/a@b:c"), "https://host/a@b:c");
        assert_eq!(
            in_text("cannot reach `http://u:secret@h/` (refused); also https://v:x@k"),
            "cannot reach `http://u:***@h/` (refused); also https://v:***@k"
        );
        assert!(has_password("http://u:p@h") && !has_password("http://h"));
    }
}
