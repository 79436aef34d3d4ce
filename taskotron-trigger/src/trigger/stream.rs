//! Recorded bus traffic as it is downloaded or captured: a stream of JSON values in any
//! layout, read into [`Message`]s one at a time.
//!
//! Accepted layouts, mixed freely in one stream: one message a line (JSON lines),
//! pretty-printed messages one after another, a JSON array of messages, and
//! datagrepper pages (`{"raw_messages": [...], ...}`). A value that cannot be read
//! (a line that is not UTF-8, not JSON, a value cut short) is one [`Record`] with an
//! error naming its first line; reading goes on after it, so one bad line never
//! hides the rest.
//!
//! Values are found by a byte scanner that tracks nesting and strings, so a stream
//! is read in one pass and memory is bounded by the largest value (and, while a
//! broken value is being recovered from, by [`MAX_VALUE`]). A line that starts with
//! `{` in the first column while a top-level object is still open means the open one
//! was cut short (JSON lines after a truncated line); reading restarts at that line.
//! *Invariant: no I/O beyond the reader given; never panics on any input.*

use std::collections::VecDeque;
use std::io::BufRead;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::message::{Message, MessageError};

/// The most a single value may hold before it is taken for a broken one.
pub const MAX_VALUE: usize = 64 << 20;

/// One message read, or why a value at `line` could not be.
#[derive(Debug)]
pub struct Record {
    /// The line (1-based) where the value starts.
    pub line: usize,
    /// The message, or why there is none.
    pub message: Result<Message, MessageError>,
}

/// Reads [`Record`]s from a byte stream.
pub struct MessageStream<R> {
    input: R,
    line: usize,
    /// Lines read back after a broken value, before any new input.
    replay: VecDeque<(usize, Vec<u8>)>,
    /// Records ready to hand out (an array holds several).
    ready: VecDeque<Record>,
    open: Option<Open>,
    done: bool,
}

/// A value being read: its text so far, its lines (for a restart), and the scanner.
struct Open {
    start: usize,
    text: Vec<u8>,
    lines: Vec<(usize, Vec<u8>)>,
    depth: usize,
    in_string: bool,
    escaped: bool,
    object: bool,
    /// It began in the first column (a top-level value of JSON lines, or of a
    /// pretty-printed stream).
    first_column: bool,
}

impl<R: BufRead> MessageStream<R> {
    /// A stream over `input`.
    pub fn new(input: R) -> Self {
        Self {
            input,
            line: 0,
            replay: VecDeque::new(),
            ready: VecDeque::new(),
            open: None,
            done: false,
        }
    }

    /// The next line, from the replay queue or the input; `Err` for an I/O error.
    fn next_line(&mut self) -> Option<std::io::Result<(usize, Vec<u8>)>> {
        if let Some(l) = self.replay.pop_front() {
            return Some(Ok(l));
        }
        let mut buf = Vec::new();
        match self.input.read_until(b'\n', &mut buf) {
            Ok(0) => None,
            Ok(_) => {
                self.line += 1;
                Some(Ok((self.line, buf)))
            }
            Err(e) => Some(Err(e)),
        }
    }

    /// Gives up on the open value: an error at its first line, and its lines after
    /// the first read again from scratch.
    fn abandon(&mut self, why: &str) {
        if let Some(open) = self.open.take() {
            self.ready.push_back(Record {
                line: open.start,
                message: Err(MessageError(why.to_string())),
            });
            for l in open.lines.into_iter().skip(1).rev() {
                self.replay.push_front(l);
            }
        }
    }

    /// Scans one line, closing values as their brackets balance.
    fn feed(&mut self, number: usize, line: Vec<u8>) {
        // A new top-level object in the first column while one is open: the open one
        // was cut short.
        if let Some(open) = &self.open {
            if open.object && open.first_column && line.first() == Some(&b'{') {
                // This line goes back first, so that the open value's other lines
                // (which came before it) are read again in front of it.
                self.replay.push_front((number, line));
                self.abandon("a JSON value cut short (the next line starts a new one)");
                return;
            }
        }
        let mut i = 0;
        let mut start_of_value = None;
        while i < line.len() {
            let b = line[i];
            match &mut self.open {
                None => {
                    if b.is_ascii_whitespace() {
                        i += 1;
                        continue;
                    }
                    if b == b'{' || b == b'[' {
                        self.open = Some(Open {
                            start: number,
                            text: Vec::new(),
                            lines: Vec::new(),
                            depth: 1,
                            in_string: false,
                            escaped: false,
                            object: b == b'{',
                            first_column: i == 0,
                        });
                        start_of_value = Some(i);
                        i += 1;
                        continue;
                    }
                    // Not an object or array: the rest of the line is one bad value.
                    let rest = String::from_utf8_lossy(&line[i..]);
                    let why = if std::str::from_utf8(&line).is_err() {
                        not_utf8(&line)
                    } else {
                        format!("not JSON: `{}`", excerpt(rest.trim_end()))
                    };
                    self.ready.push_back(Record {
                        line: number,
                        message: Err(MessageError(why)),
                    });
                    return;
                }
                Some(open) => {
                    if open.in_string {
                        if open.escaped {
                            open.escaped = false;
                        } else if b == b'\\' {
                            open.escaped = true;
                        } else if b == b'"' {
                            open.in_string = false;
                        }
                    } else {
                        match b {
                            b'"' => open.in_string = true,
                            b'{' | b'[' => open.depth += 1,
                            b'}' | b']' => open.depth -= 1,
                            _ => {}
                        }
                    }
                    i += 1;
                    if open.depth == 0 {
                        let from = start_of_value.take().unwrap_or(0);
                        open.text.extend_from_slice(&line[from..i]);
                        open.lines.push((number, line.clone()));
                        let open = self.open.take();
                        // A broken value spread over lines has them read again,
                        // this one included: the rest of it is not scanned now.
                        if let Some(open) = open {
                            if self.close(open) {
                                return;
                            }
                        }
                    }
                }
            }
        }
        if let Some(open) = &mut self.open {
            let from = start_of_value.unwrap_or(0);
            open.text.extend_from_slice(&line[from..]);
            open.lines.push((number, line));
            if open.text.len() > MAX_VALUE {
                self.abandon("a JSON value of more than 64 MiB (cut short, or not a message)");
            }
        }
    }

    /// A value whose brackets balance: its messages, or why not. Returns whether its
    /// lines after the first were put back to be read again.
    fn close(&mut self, open: Open) -> bool {
        let start = open.start;
        let text = match String::from_utf8(open.text) {
            Ok(t) => t,
            Err(e) => {
                let bad = e.utf8_error().valid_up_to();
                let line = start + e.as_bytes()[..bad].iter().filter(|b| **b == b'\n').count();
                self.ready.push_back(Record {
                    line,
                    message: Err(MessageError(not_utf8(e.as_bytes()))),
                });
                // The value's other lines may hold whole messages (JSON lines).
                let replayed = open.lines.len() > 1;
                for l in open.lines.into_iter().skip(1).rev() {
                    self.replay.push_front(l);
                }
                return replayed;
            }
        };
        if open.object {
            #[derive(Deserialize)]
            struct Page<'a> {
                #[serde(borrow)]
                raw_messages: Vec<&'a RawValue>,
            }
            if text.contains("\"raw_messages\"") {
                if let Ok(page) = serde_json::from_str::<Page<'_>>(&text) {
                    for m in page.raw_messages {
                        self.push_message(start, m.get().to_string());
                    }
                    return false;
                }
            }
            match serde_json::from_str::<&RawValue>(&text) {
                Ok(_) => {
                    self.push_message(start, text);
                    false
                }
                Err(e) => self.broken(start, &e, open.lines),
            }
        } else {
            match serde_json::from_str::<Vec<&RawValue>>(&text) {
                Ok(items) => {
                    for m in items {
                        self.push_message(start, m.get().to_string());
                    }
                    false
                }
                Err(e) => self.broken(start, &e, open.lines),
            }
        }
    }

    fn push_message(&mut self, line: usize, text: String) {
        self.ready.push_back(Record {
            line,
            message: Message::parse_owned(text),
        });
    }

    /// A balanced value that is not JSON: an error at the line serde names; its other
    /// lines are read again (they may be whole messages). Returns whether any were.
    fn broken(
        &mut self,
        start: usize,
        e: &serde_json::Error,
        lines: Vec<(usize, Vec<u8>)>,
    ) -> bool {
        let last = lines.last().map_or(start, |(n, _)| *n);
        self.ready.push_back(Record {
            line: (start + e.line().saturating_sub(1)).clamp(start, last),
            message: Err(MessageError(format!("not JSON: {e}"))),
        });
        let replayed = lines.len() > 1;
        for l in lines.into_iter().skip(1).rev() {
            self.replay.push_front(l);
        }
        replayed
    }
}

impl<R: BufRead> Iterator for MessageStream<R> {
    type Item = std::io::Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(r) = self.ready.pop_front() {
                return Some(Ok(r));
            }
            if self.done {
                return None;
            }
            match self.next_line() {
                Some(Ok((number, line))) => self.feed(number, line),
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
                None => {
                    if self.open.is_some() {
                        self.abandon("a JSON value cut short (the input ends inside it)");
                    } else {
                        self.done = true;
                    }
                }
            }
        }
    }
}

fn not_utf8(bytes: &[u8]) -> String {
    let at = std::str::from_utf8(bytes)
        .err()
        .map_or(0, |e| e.valid_up_to());
    let column = bytes[..at]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(at, |nl| at - nl - 1)
        + 1;
    format!(
        "not UTF-8 (byte 0x{:02x} at column {column})",
        bytes.get(at).copied().unwrap_or(0)
    )
}

fn excerpt(text: &str) -> String {
    let cut: String = text.chars().take(60).collect();
    if cut.len() < text.len() {
        format!("{cut}...")
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = r#"{"topic": "t.buildsys.tag", "msg_id": "a", "msg": {"tag": "f41"}}"#;
    const B: &str = r#"{"topic": "t.buildsys.tag", "msg_id": "b", "msg": {"tag": "f42 }{ \" ["}}"#;

    /// `(line, id or error)` for each record.
    fn read(input: &[u8]) -> Vec<(usize, String)> {
        MessageStream::new(input)
            .map(|r| r.unwrap())
            .map(|r| {
                let what = match r.message {
                    Ok(m) => m.id.unwrap_or_default(),
                    Err(e) => format!("error: {e}"),
                };
                (r.line, what)
            })
            .collect()
    }

    fn ids(records: &[(usize, String)]) -> Vec<&str> {
        records.iter().map(|(_, w)| w.as_str()).collect()
    }

    #[test]
    fn json_lines_and_pretty_printed_values_and_arrays_and_pages() {
        let lines = format!("{A}\n\n{B}\n");
        assert_eq!(read(lines.as_bytes()), [(1, "a".into()), (3, "b".into())]);
        let pretty = format!(
            "{}\n{}\n",
            serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(A).unwrap())
                .unwrap(),
            serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(B).unwrap())
                .unwrap()
        );
        let got = read(pretty.as_bytes());
        assert_eq!(ids(&got), ["a", "b"]);
        assert_eq!(got[0].0, 1);
        let array = format!("[\n{A},\n{B}\n]\n");
        assert_eq!(ids(&read(array.as_bytes())), ["a", "b"]);
        let page = format!(
            "{{\"arguments\": {{\"page\": 1}}, \"count\": 2, \"pages\": 1,\n \"raw_messages\": [{A}, {B}], \"total\": 2}}"
        );
        assert_eq!(ids(&read(page.as_bytes())), ["a", "b"]);
        // Two on one line, and a value spread over lines after another.
        let packed = format!("{A}{B}\n{A} {B}\n");
        assert_eq!(ids(&read(packed.as_bytes())), ["a", "b", "a", "b"]);
    }

    #[test]
    fn a_bad_line_is_skipped_and_named_and_the_rest_is_read() {
        let mut input = Vec::new();
        input.extend_from_slice(A.as_bytes());
        input.extend_from_slice(b"\n{\"topic\": \"x\", \"msg\": {\"tag\": \"\xff\xfe\"}}\n");
        input.extend_from_slice(B.as_bytes());
        input.extend_from_slice(b"\nnot json at all\n");
        input.extend_from_slice(A.as_bytes());
        let got = read(&input);
        assert_eq!(got.len(), 5, "{got:?}");
        assert_eq!(got[0], (1, "a".into()));
        assert_eq!(got[1].0, 2);
        assert!(
            got[1].1.contains("not UTF-8 (byte 0xff at column 32)"),
            "{got:?}"
        );
        assert_eq!(got[2], (3, "b".into()));
        assert_eq!(got[3].0, 4);
        assert!(got[3].1.contains("not JSON: `not json at all`"), "{got:?}");
        assert_eq!(got[4], (5, "a".into()));
    }

    #[test]
    fn a_truncated_line_loses_only_itself() {
        let input = format!("{A}\n{{\"topic\": \"t\", \"msg\": {{\"tag\": \n{B}\n{A}\n");
        let got = read(input.as_bytes());
        assert_eq!(ids(&got)[0], "a");
        assert_eq!(got[1].0, 2);
        assert!(got[1].1.contains("cut short"), "{got:?}");
        assert_eq!(ids(&got)[2..], ["b", "a"]);
        // At the very end too.
        let got = read(format!("{A}\n{{\"topic\": [1, 2").as_bytes());
        assert_eq!(got.len(), 2);
        assert!(got[1].1.contains("the input ends inside it"));
        // Balanced but not JSON: named, and the lines after its first read again.
        let got = read(format!("[\n{A},\n{B} oops\n]\n").as_bytes());
        assert!(got[0].1.starts_with("error: not JSON"), "{got:?}");
        assert!(ids(&got).contains(&"a"), "{got:?}");
    }

    #[test]
    fn lines_read_again_keep_their_order_and_numbers() {
        // Found by the fuzzer: an object cut short, lines, then a line starting a
        // new object; the cut one's lines came back after that line.
        let input = format!("{{\"a\": \"x{{\n\n\njunk\n{{\"b\": \n{A}\n");
        let got = read(input.as_bytes());
        let lines = input.lines().count();
        assert!(got.iter().all(|(l, _)| *l >= 1 && *l <= lines), "{got:?}");
        assert_eq!(got.last().unwrap().1, "a", "{got:?}");
        for pair in got.windows(2) {
            assert!(pair[0].0 <= pair[1].0, "records in line order: {got:?}");
        }
    }

    #[test]
    fn empty_input_is_no_records() {
        assert!(read(b"").is_empty());
        assert!(read(b"\n\n  \n").is_empty());
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_ends(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let lines = bytes.iter().filter(|b| **b == b'\n').count() + 1;
            let records: Vec<Record> = MessageStream::new(bytes.as_slice())
                .take(10_000)
                .map(|r| r.unwrap())
                .collect();
            proptest::prop_assert!(records.len() < 10_000);
            for r in &records {
                proptest::prop_assert!(r.line >= 1 && r.line <= lines, "line {} of {}", r.line, lines);
            }
        }

        #[test]
        fn lines_are_real_whatever_the_layout(parts in proptest::collection::vec(
            proptest::prop_oneof!["\\{", "\\}", "\\[", "\\]", "\\n", "\"", "x", ",", ":", "\\{\"topic\": \"t\", \"msg\": \\{\\}\\}"], 0..80)
        ) {
            let text: String = parts.concat();
            let lines = text.matches('\n').count() + 1;
            for r in MessageStream::new(text.as_bytes()).take(10_000) {
                let r = r.unwrap();
                proptest::prop_assert!(r.line >= 1 && r.line <= lines, "line {} of {}: {:?}", r.line, lines, text);
            }
        }

        #[test]
        fn every_message_of_json_lines_is_read_whatever_lines_are_broken(
            broken in proptest::collection::vec(proptest::prelude::any::<bool>(), 1..30)
        ) {
            let mut input = String::new();
            for (n, b) in broken.iter().enumerate() {
                if *b {
                    input.push_str("{\"topic\": \"t\", \"msg\": {\"tag\": [\n");
                } else {
                    input.push_str(&format!("{{\"topic\": \"t.buildsys.tag\", \"msg_id\": \"m{n}\", \"msg\": {{\"tag\": \"x\"}}}}\n"));
                }
            }
            let got = read(input.as_bytes());
            let good: Vec<String> = got.iter().filter(|(_, w)| !w.starts_with("error")).map(|(_, w)| w.clone()).collect();
            let want: Vec<String> = broken.iter().enumerate().filter(|(_, b)| !**b).map(|(n, _)| format!("m{n}")).collect();
            proptest::prop_assert_eq!(good, want);
            proptest::prop_assert_eq!(got.len(), broken.len());
        }
    }
}
