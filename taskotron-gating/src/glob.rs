//! Shell-style wildcards (`fedora-*`, `python3-?`), as Greenwave matches product
//! versions and package names with Python's `fnmatch`. Pure.

/// Whether `text` matches `pattern`: `*` any run, `?` one character, `[...]` a
/// class (`[!...]` negated); anything else literally. Case-sensitive, as `fnmatch`
/// is on Linux.
pub fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matching with one backtrack point for the last `*`: linear in
    // practice and never recursive, so a hostile pattern cannot blow the stack.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                '[' => {
                    if let Some((ok, next)) = class(&p, pi, t[ti]) {
                        if ok {
                            pi = next;
                            ti += 1;
                            continue;
                        }
                    } else if t[ti] == '[' {
                        pi += 1;
                        ti += 1;
                        continue;
                    }
                }
                c if c == t[ti] => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Reads the class starting at `p[at] == '['`: whether `c` is in it and where the
/// pattern goes on; `None` when the class is not closed (then `[` is literal).
fn class(p: &[char], at: usize, c: char) -> Option<(bool, usize)> {
    let mut i = at + 1;
    let negated = matches!(p.get(i), Some('!'));
    if negated {
        i += 1;
    }
    let mut found = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            return Some((found != negated, i + 1));
        }
        first = false;
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if p[i] <= c && c <= p[i + 2] {
                found = true;
            }
            i += 3;
        } else {
            if p[i] == c {
                found = true;
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::matches;
    use proptest::prelude::*;

    #[test]
    fn as_fnmatch() {
        assert!(matches("fedora-*", "fedora-41"));
        assert!(!matches("fedora-*", "epel-9"));
        assert!(matches("*", ""));
        assert!(matches("python3-?", "python3-x"));
        assert!(!matches("python3-?", "python3-xy"));
        assert!(matches("f[0-9]*", "f41"));
        assert!(!matches("f[!0-9]*", "f41"));
        assert!(matches("a[", "a["));
        assert!(matches("*-*-*", "htop-3.3.0-1.fc41"));
        assert!(!matches("htop", "htop-devel"));
    }

    proptest! {
        #[test]
        fn a_literal_matches_itself(s in "[a-z0-9.-]{0,20}") {
            prop_assert!(matches(&s, &s));
            let star = format!("*{s}*");
            let wrapped = format!("x{s}y");
            prop_assert!(matches(&star, &wrapped));
        }

        #[test]
        fn never_panics(p in ".{0,12}", t in ".{0,12}") {
            let _ = matches(&p, &t);
        }
    }
}
