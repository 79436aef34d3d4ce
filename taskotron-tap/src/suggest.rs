//! "Did you mean" suggestions for near misses. Pure; no I/O.

/// The candidate closest to `input`, if one is close enough to be a likely typo.
///
/// Close enough means a Jaro-Winkler similarity of at least 0.8, or an edit
/// distance (transpositions counting once) of at most a third of the input's length; case is ignored so that
/// `Shell` suggests `shell`.
pub fn did_you_mean<'a, I>(input: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lowered = input.to_lowercase();
    let mut best: Option<(&'a str, f64)> = None;
    for candidate in candidates {
        let c = candidate.to_lowercase();
        let jw = strsim::jaro_winkler(&lowered, &c);
        let lev = strsim::osa_distance(&lowered, &c);
        let close = jw >= 0.8 || lev * 3 <= lowered.chars().count().max(3);
        if close && best.is_none_or(|(_, score)| jw > score) {
            best = Some((candidate, jw));
        }
    }
    best.map(|(c, _)| c)
}

/// The names a text quotes in backquotes, in order: serde's "expected one of
/// `builds`, `tags`" gives `builds` and `tags`. Used to put serde's refusals into
/// our own words, with a did-you-mean among them.
pub fn backquoted(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// Formats candidates as "`a`, `b` or `c`" for "expected ..." texts.
pub fn one_of<'a, I>(candidates: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    let items: Vec<String> = candidates.into_iter().map(|c| format!("`{c}`")).collect();
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn backquoted_names_are_read_in_order() {
        assert_eq!(
            super::backquoted(", expected one of `builds`, `tags`, `inheritance`"),
            ["builds", "tags", "inheritance"]
        );
        assert!(super::backquoted("no names").is_empty());
    }

    use super::*;

    #[test]
    fn suggests_near_misses_only() {
        let keys = ["name", "namespace", "actions", "input"];
        assert_eq!(did_you_mean("acitons", keys), Some("actions"));
        assert_eq!(did_you_mean("namespce", keys), Some("namespace"));
        assert_eq!(did_you_mean("Name", keys), Some("name"));
        assert_eq!(did_you_mean("mgs", ["result", "msg"]), Some("msg"));
        assert_eq!(did_you_mean("zzzzzz", keys), None);
    }

    #[test]
    fn lists_candidates_in_prose() {
        assert_eq!(one_of(["a"]), "`a`");
        assert_eq!(one_of(["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
