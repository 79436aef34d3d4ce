//! The streaming TAP reader: lines in, [`Event`]s out.

use std::collections::VecDeque;
use std::io::{self, BufRead};

use super::{Directive, Event, Plan, TestPoint, YamlBlock};

/// How many comment lines the reader looks past for a test point's YAML block; a
/// bound keeps memory constant whatever the stream holds.
const YAML_LOOKAHEAD: usize = 64;

/// Reads TAP events from a `BufRead`, one line at a time.
///
/// The iterator yields `Err` only for I/O errors; malformed TAP is never an error
/// here (see [`super::Validator`]). Invalid UTF-8 is replaced, not rejected.
pub struct Reader<R> {
    input: R,
    /// Line buffers that are done with, reused so that reading allocates only for
    /// what events keep.
    spare: Vec<Vec<u8>>,
    line_no: usize,
    /// Lines read but not yet processed: look-ahead pushed back, or the parts of a
    /// line that held bare carriage returns.
    queue: VecDeque<(usize, String)>,
    out: VecDeque<Event>,
    depth: usize,
    /// A `# Subtest: name` head waiting to see whether a deeper document follows.
    head: Option<(usize, usize, Option<String>)>,
    eof: bool,
    finished: bool,
}

impl<R: BufRead> Reader<R> {
    /// A reader of `input`.
    pub fn new(input: R) -> Self {
        Self {
            input,
            spare: Vec::new(),
            line_no: 0,
            queue: VecDeque::new(),
            out: VecDeque::new(),
            depth: 0,
            head: None,
            eof: false,
            finished: false,
        }
    }

    fn next_line(&mut self) -> io::Result<Option<(usize, String)>> {
        if let Some(line) = self.queue.pop_front() {
            return Ok(Some(line));
        }
        if self.eof {
            return Ok(None);
        }
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.clear();
        if self.input.read_until(b'\n', &mut buf)? == 0 {
            self.eof = true;
            self.spare.push(buf);
            return Ok(None);
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        self.line_no += 1;
        let text = String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        if text.contains('\r') {
            // Old Mac line ends: each bare CR starts a new line.
            let mut parts = text.split('\r');
            let first = parts.next().unwrap_or_default().to_string();
            let first_no = self.line_no;
            for part in parts {
                self.line_no += 1;
                self.queue.push_back((self.line_no, part.to_string()));
            }
            return Ok(Some((first_no, first)));
        }
        Ok(Some((self.line_no, text)))
    }

    /// Gives a line's buffer back for the next read.
    fn recycle(&mut self, line: String) {
        if self.spare.len() < 8 {
            self.spare.push(line.into_bytes());
        }
    }

    fn push_back(&mut self, lines: Vec<(usize, String)>) {
        for line in lines.into_iter().rev() {
            self.queue.push_front(line);
        }
    }

    /// Processes one line; returns false at the end of the stream.
    fn step(&mut self) -> io::Result<bool> {
        let Some((no, line)) = self.next_line()? else {
            self.finish();
            return Ok(false);
        };
        let indent = leading_spaces(&line);
        let rest = &line[indent..];
        if rest.trim().is_empty() {
            self.recycle(line);
            return Ok(true);
        }
        let Some(kind) = classify(rest) else {
            self.out.push_back(Event::Unknown {
                line: no,
                text: line,
            });
            return Ok(true);
        };
        let depth = indent / 4;
        self.transition(no, depth);
        match kind {
            Kind::Version(version) => self.out.push_back(Event::Version { line: no, version }),
            Kind::Plan(count, reason) => self.out.push_back(Event::Plan(Plan {
                line: no,
                depth,
                count,
                reason,
            })),
            Kind::Bail(reason) => self.out.push_back(Event::BailOut {
                line: no,
                depth,
                reason,
            }),
            Kind::Pragma(enabled, name) => self.out.push_back(Event::Pragma {
                line: no,
                depth,
                enabled,
                name,
            }),
            Kind::Subtest(name) => self.head = Some((no, depth, name)),
            Kind::Comment => {
                let text = rest[1..].trim().to_string();
                self.out.push_back(Event::Comment {
                    line: no,
                    depth,
                    text,
                });
            }
            Kind::Test(ok, after) => {
                let mut point = parse_test(no, depth, ok, after);
                point.yaml = self.yaml_after(indent)?;
                self.out.push_back(Event::Test(point));
            }
        }
        self.recycle(line);
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
            let line = self.line_no;
            for level in (1..=self.depth).rev() {
                self.out.push_back(Event::SubtestEnd { line, depth: level });
            }
            self.depth = 0;
        }
    }

    /// Looks past blank and comment lines for a YAML block belonging to the test
    /// point at `indent`; everything looked at and not used is processed again.
    fn yaml_after(&mut self, indent: usize) -> io::Result<Option<YamlBlock>> {
        let mut held = Vec::new();
        loop {
            let Some((no, line)) = self.next_line()? else {
                break;
            };
            let li = leading_spaces(&line);
            let rest = &line[li..];
            if rest.trim().is_empty() || (rest.starts_with('#') && held.len() < YAML_LOOKAHEAD) {
                held.push((no, line));
                continue;
            }
            if rest.trim_end() == "---" && (li == indent + 2 || li == indent + 4) {
                let block = self.yaml_block(no, li)?;
                self.push_back(held);
                return Ok(Some(block));
            }
            held.push((no, line));
            break;
        }
        self.push_back(held);
        Ok(None)
    }

    /// Reads a YAML block whose `---` at column `indent` was on line `start`.
    fn yaml_block(&mut self, start: usize, indent: usize) -> io::Result<YamlBlock> {
        let mut text = String::new();
        let mut lines = 0;
        loop {
            let Some((no, line)) = self.next_line()? else {
                return Ok(YamlBlock {
                    line: start,
                    indent,
                    text,
                    lines,
                    terminated: false,
                });
            };
            let li = leading_spaces(&line);
            if line[li..].trim().is_empty() {
                text.push('\n');
                lines += 1;
                continue;
            }
            if li == indent && line[li..].trim_end() == "..." {
                return Ok(YamlBlock {
                    line: start,
                    indent,
                    text,
                    lines,
                    terminated: true,
                });
            }
            if li < indent {
                self.queue.push_front((no, line));
                return Ok(YamlBlock {
                    line: start,
                    indent,
                    text,
                    lines,
                    terminated: false,
                });
            }
            text.push_str(&line[indent..]);
            text.push('\n');
            lines += 1;
            self.recycle(line);
        }
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = io::Result<Event>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(event) = self.out.pop_front() {
                return Some(Ok(event));
            }
            if self.finished {
                return None;
            }
            match self.step() {
                Ok(_) => {}
                Err(e) => {
                    self.finished = true;
                    return Some(Err(e));
                }
            }
        }
    }
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
    let mut rest = after.trim_start();
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let mut id = None;
    if digits > 0 && (digits == rest.len() || rest.as_bytes()[digits].is_ascii_whitespace()) {
        id = rest[..digits].parse().ok();
        rest = rest[digits..].trim_start();
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
    while i < bytes.len() {
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
    if !text.contains('\\') {
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
