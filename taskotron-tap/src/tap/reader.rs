//! The streaming TAP reader: lines in, [`Event`]s out.

use std::collections::VecDeque;
use std::io::{self, Read};

use super::lines::Lines;

use super::{Directive, Event, Plan, TestPoint, YamlBlock};

/// How many comment lines the reader looks past for a test point's YAML block; a
/// bound keeps memory constant whatever the stream holds.
const YAML_LOOKAHEAD: usize = 64;
/// The most text one YAML block keeps; the lines beyond are read and counted.
const MAX_YAML_TEXT: usize = 16 * 1024 * 1024;

/// Reads TAP events from a byte stream, one line at a time.
///
/// The iterator yields `Err` only for I/O errors; malformed TAP is never an error
/// here (see [`super::Validator`]). Invalid UTF-8 is replaced, not rejected.
pub struct Reader<R> {
    lines: Lines<R>,
    out: VecDeque<Event>,
    depth: usize,
    /// A `# Subtest: name` head waiting to see whether a deeper document follows.
    head: Option<(usize, usize, Option<String>)>,
    keep_yaml: bool,
    finished: bool,
}

/// One line, understood and owned, so the stream can move on.
enum Parsed {
    Blank,
    Unknown(String),
    Version(u32),
    Plan(u64, Option<String>),
    Test(TestPoint),
    Bail(String),
    Pragma(bool, String),
    Subtest(Option<String>),
    Comment(String),
}

impl<R: Read> Reader<R> {
    /// A reader of `input` (buffered internally; a `BufRead` is fine too).
    pub fn new(input: R) -> Self {
        Self {
            lines: Lines::new(input),
            out: VecDeque::new(),
            depth: 0,
            head: None,
            keep_yaml: true,
            finished: false,
        }
    }

    /// Leaves YAML blocks' text out of the events (their lines are still counted and
    /// checked), for a structure-only pass that never decodes them.
    pub fn without_yaml_text(mut self) -> Self {
        self.keep_yaml = false;
        self
    }

    fn read(&mut self) -> io::Result<Option<(usize, usize, Parsed)>> {
        let Some((no, line)) = self.lines.next_line()? else {
            return Ok(None);
        };
        let indent = leading_spaces(&line);
        let rest = &line[indent..];
        let parsed = if is_blank(rest) {
            Parsed::Blank
        } else {
            match classify(rest) {
                None => Parsed::Unknown(line.into_owned()),
                Some(Kind::Version(v)) => Parsed::Version(v),
                Some(Kind::Plan(count, reason)) => Parsed::Plan(count, reason),
                Some(Kind::Bail(reason)) => Parsed::Bail(reason),
                Some(Kind::Pragma(enabled, name)) => Parsed::Pragma(enabled, name),
                Some(Kind::Subtest(name)) => Parsed::Subtest(name),
                Some(Kind::Comment) => Parsed::Comment(rest[1..].trim().to_string()),
                Some(Kind::Test(ok, after)) => Parsed::Test(parse_test(no, indent / 4, ok, after)),
            }
        };
        Ok(Some((no, indent, parsed)))
    }

    /// Processes one line; returns false at the end of the stream.
    fn step(&mut self) -> io::Result<bool> {
        let Some((no, indent, parsed)) = self.read()? else {
            self.finish();
            return Ok(false);
        };
        let depth = indent / 4;
        match parsed {
            Parsed::Blank => return Ok(true),
            Parsed::Unknown(text) => {
                self.out.push_back(Event::Unknown { line: no, text });
                return Ok(true);
            }
            _ => {}
        }
        self.transition(no, depth);
        match parsed {
            Parsed::Blank | Parsed::Unknown(_) => {}
            Parsed::Version(version) => self.out.push_back(Event::Version { line: no, version }),
            Parsed::Plan(count, reason) => self.out.push_back(Event::Plan(Plan {
                line: no,
                depth,
                count,
                reason,
            })),
            Parsed::Bail(reason) => self.out.push_back(Event::BailOut {
                line: no,
                depth,
                reason,
            }),
            Parsed::Pragma(enabled, name) => self.out.push_back(Event::Pragma {
                line: no,
                depth,
                enabled,
                name,
            }),
            Parsed::Subtest(name) => self.head = Some((no, depth, name)),
            Parsed::Comment(text) => self.out.push_back(Event::Comment {
                line: no,
                depth,
                text,
            }),
            Parsed::Test(mut point) => {
                let between = self.yaml_after(indent, &mut point)?;
                self.out.push_back(Event::Test(point));
                self.out.extend(between);
            }
        }
        Ok(true)
    }

    /// Moves to `depth`, opening or closing subtests, and settles a pending head.
    fn transition(&mut self, line: usize, depth: usize) {
        if depth > self.depth {
            for level in self.depth + 1..=depth {
                let head = match &self.head {
                    Some((_, d, _)) if level == self.depth + 1 && *d == self.depth => {
                        self.head.take()
                    }
                    _ => None,
                };
                let (start, name) = head.map_or((line, None), |(l, _, n)| (l, n));
                self.out.push_back(Event::SubtestStart {
                    line: start,
                    depth: level,
                    name,
                });
            }
        } else {
            self.flush_head();
            for level in (depth + 1..=self.depth).rev() {
                self.out.push_back(Event::SubtestEnd { line, depth: level });
            }
        }
        self.flush_head();
        self.depth = depth;
    }

    /// A head that did not lead into a deeper document is an ordinary comment.
    fn flush_head(&mut self) {
        if let Some((line, depth, name)) = self.head.take() {
            let text = match name {
                Some(n) => format!("Subtest: {n}"),
                None => "Subtest".to_string(),
            };
            self.out.push_back(Event::Comment { line, depth, text });
        }
    }

    fn finish(&mut self) {
        if !self.finished {
            self.finished = true;
            self.flush_head();
            let line = self.lines.line_no();
            for level in (1..=self.depth).rev() {
                self.out.push_back(Event::SubtestEnd { line, depth: level });
            }
            self.depth = 0;
        }
    }

    /// Looks past blank and comment lines for a YAML block belonging to the test
    /// point at `indent` and attaches it. Returns the comments that stood between
    /// (they follow the test point); when there is no block, every line looked at
    /// is read again.
    fn yaml_after(&mut self, indent: usize, point: &mut TestPoint) -> io::Result<Vec<Event>> {
        let mark = self.lines.mark();
        let mut between = Vec::new();
        let mut looked = 0;
        while let Some((no, line)) = self.lines.next_line()? {
            let li = leading_spaces(&line);
            let rest = &line[li..];
            // Blank lines count too: a stream of nothing but newlines after a test
            // point must not be held for a YAML block that never comes.
            if is_blank(rest) && looked < YAML_LOOKAHEAD {
                looked += 1;
                continue;
            }
            if rest.starts_with('#') && looked < YAML_LOOKAHEAD {
                looked += 1;
                between.push(Event::Comment {
                    line: no,
                    depth: point.depth,
                    text: rest[1..].trim().to_string(),
                });
                continue;
            }
            if rest.trim_end() == "---" && (li == indent + 2 || li == indent + 4) {
                point.yaml = Some(Box::new(self.yaml_block(no, li)?));
                return Ok(between);
            }
            break;
        }
        self.lines.reset(mark);
        Ok(Vec::new())
    }

    /// Reads a YAML block whose `---` at column `indent` was on line `start`.
    fn yaml_block(&mut self, start: usize, indent: usize) -> io::Result<YamlBlock> {
        // Most of a stream can be YAML: work on bytes, and check UTF-8 once per block.
        let mut text: Vec<u8> = Vec::new();
        let (mut lines, mut terminated) = (0, false);
        loop {
            let mark = self.lines.mark();
            let Some((_, line)) = self.lines.next_bytes()? else {
                break;
            };
            let li = line.iter().take_while(|b| **b == b' ').count();
            let rest = &line[li..];
            if rest.iter().all(u8::is_ascii_whitespace) {
                if self.keep_yaml && text.len() < MAX_YAML_TEXT {
                    text.push(b'\n');
                }
                lines += 1;
                continue;
            }
            if li == indent
                && rest.starts_with(b"...")
                && rest[3..].iter().all(u8::is_ascii_whitespace)
            {
                terminated = true;
                break;
            }
            if li < indent {
                self.lines.reset(mark);
                break;
            }
            // A block larger than any real diagnostics keeps its first part.
            if self.keep_yaml && text.len() < MAX_YAML_TEXT {
                text.extend_from_slice(&line[indent..]);
                text.push(b'\n');
            }
            lines += 1;
        }
        self.lines.release();
        let text = String::from_utf8(text)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        Ok(YamlBlock {
            line: start,
            indent,
            text,
            lines,
            terminated,
        })
    }
}

impl<R: Read> Iterator for Reader<R> {
    type Item = io::Result<Event>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(event) = self.out.pop_front() {
                return Some(Ok(event));
            }
            if self.finished {
                return None;
            }
            if let Err(e) = self.step() {
                self.finished = true;
                return Some(Err(e));
            }
        }
    }
}

fn is_blank(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_whitespace())
}

fn leading_spaces(line: &str) -> usize {
    line.bytes().take_while(|b| *b == b' ').count()
}

enum Kind<'a> {
    Version(u32),
    Plan(u64, Option<String>),
    Test(bool, &'a str),
    Bail(String),
    Pragma(bool, String),
    Subtest(Option<String>),
    Comment,
}

/// What kind of TAP line `rest` (indentation removed) is, if any.
fn classify(rest: &str) -> Option<Kind<'_>> {
    let b = rest.as_bytes();
    match b[0] {
        b'o' => {
            let after = rest.strip_prefix("ok")?;
            starts_word_end(after).then_some(Kind::Test(true, after))
        }
        b'n' => {
            let after = rest.strip_prefix("not")?;
            let trimmed = after.trim_start_matches([' ', '\t']);
            if trimmed.len() == after.len() {
                return None;
            }
            let after = trimmed.strip_prefix("ok")?;
            starts_word_end(after).then_some(Kind::Test(false, after))
        }
        b'1' => {
            let after = rest.strip_prefix("1..")?;
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            let count = after[..digits].parse().ok()?;
            let tail = after[digits..].trim();
            let reason = match tail.strip_prefix('#') {
                Some(r) => Some(r.trim().to_string()),
                None if tail.is_empty() => None,
                None => return None,
            };
            Some(Kind::Plan(count, reason))
        }
        b'T' => {
            let v = rest.strip_prefix("TAP version ")?.trim();
            v.parse().ok().map(Kind::Version)
        }
        b'B' | b'b'
            if rest
                .get(..9)
                .is_some_and(|h| h.eq_ignore_ascii_case("bail out!")) =>
        {
            Some(Kind::Bail(unescape(rest[9..].trim())))
        }
        b'p' => {
            let after = rest.strip_prefix("pragma ")?.trim();
            let enabled = match after.as_bytes().first() {
                Some(b'+') => true,
                Some(b'-') => false,
                _ => return None,
            };
            let name = after[1..].trim();
            (!name.is_empty()).then(|| Kind::Pragma(enabled, name.to_string()))
        }
        b'#' => {
            let text = rest[1..].trim_start();
            if let Some(after) = text.strip_prefix("Subtest") {
                if after.is_empty() {
                    return Some(Kind::Subtest(None));
                }
                if let Some(name) = after.strip_prefix(':') {
                    let name = name.trim();
                    return Some(Kind::Subtest((!name.is_empty()).then(|| name.to_string())));
                }
            }
            Some(Kind::Comment)
        }
        _ => None,
    }
}

fn starts_word_end(after: &str) -> bool {
    after.is_empty() || after.starts_with([' ', '\t'])
}

/// Parses what follows `ok` / `not ok`: number, description, directive.
fn parse_test(line: usize, depth: usize, ok: bool, after: &str) -> TestPoint {
    let mut rest = after.trim_start_matches([' ', '\t']);
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let mut id = None;
    if digits > 0 && (digits == rest.len() || rest.as_bytes()[digits].is_ascii_whitespace()) {
        // Hand-rolled: numbers are short and this runs for every test point.
        id = rest.as_bytes()[..digits].iter().try_fold(0u64, |n, d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        });
        rest = rest[digits..].trim_start_matches([' ', '\t']);
    }
    if let Some(r) = rest.strip_prefix('-') {
        if r.is_empty() || r.starts_with([' ', '\t']) {
            rest = r.trim_start();
        }
    }
    let (description, directive) = split_directive(rest);
    TestPoint {
        line,
        depth,
        ok,
        id,
        description,
        directive,
        yaml: None,
    }
}

/// Finds the first unescaped `#` followed by SKIP or TODO (any case, any suffix) and
/// splits the description from the directive there. Other `#`s stay in the
/// description.
fn split_directive(text: &str) -> (String, Option<Directive>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    // Jump from one `#` or `\` to the next; most descriptions have neither.
    while let Some(found) = memchr::memchr2(b'#', b'\\', &bytes[i.min(bytes.len())..]) {
        i += found;
        match bytes[i] {
            b'\\' => i += 2,
            b'#' => {
                let after = text[i + 1..].trim_start();
                let word_len = after.find(char::is_whitespace).unwrap_or(after.len());
                let word = &after[..word_len];
                let kind = if word.len() >= 4
                    && word.is_char_boundary(4)
                    && word[..4].eq_ignore_ascii_case("skip")
                {
                    Some(true)
                } else if word.len() >= 4
                    && word.is_char_boundary(4)
                    && word[..4].eq_ignore_ascii_case("todo")
                {
                    Some(false)
                } else {
                    None
                };
                if let Some(skip) = kind {
                    let reason = unescape(after[word_len..].trim());
                    let description = unescape(text[..i].trim_end());
                    let d = if skip {
                        Directive::Skip(reason)
                    } else {
                        Directive::Todo(reason)
                    };
                    return (description, Some(d));
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    (unescape(text.trim_end()), None)
}

/// Undoes the TAP escapes `\#` and `\\`; other backslashes stay.
fn unescape(text: &str) -> String {
    if memchr::memchr(b'\\', text.as_bytes()).is_none() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(&n) = chars.peek() {
                if n == '#' || n == '\\' {
                    out.push(n);
                    chars.next();
                    continue;
                }
            }
        }
        out.push(c);
    }
    out
}
