//! Lines out of a byte stream, without copying them: each line is a slice of one
//! reusable buffer, and the reader can look ahead and go back (for a test point's
//! YAML block) without keeping copies of what it looked at.

use std::borrow::Cow;
use std::io::{self, Read};

const CHUNK: usize = 64 * 1024;

/// The longest line kept: the rest of a longer line is dropped as it is read, so
/// that one endless line (a suite printing a gigabyte without a newline) cannot
/// grow the buffer. No TAP line comes near it.
pub const MAX_LINE: usize = 256 * 1024;

/// A position to return to, from [`Lines::mark`].
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    offset: u64,
    line_no: usize,
}

/// Splits a stream into lines. `\n`, `\r\n` and (when the first line shows them)
/// bare `\r` end lines; invalid UTF-8 is replaced.
pub struct Lines<R> {
    input: R,
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    base: u64,
    /// Next unread byte in `buf`.
    pos: usize,
    /// Bytes of `buf` that hold data.
    end: usize,
    /// The oldest position a mark may return to; kept in the buffer.
    keep: Option<usize>,
    line_no: usize,
    eof: bool,
    /// Bare `\r` ends lines (old Mac files), decided on the first line.
    cr_mode: Option<bool>,
    /// Dropping input up to the end of a line cut at [`MAX_LINE`].
    skipping: bool,
}

impl<R: Read> Lines<R> {
    /// Lines of `input`.
    pub fn new(input: R) -> Self {
        Self {
            input,
            buf: vec![0; CHUNK],
            base: 0,
            pos: 0,
            end: 0,
            keep: None,
            line_no: 0,
            eof: false,
            cr_mode: None,
            skipping: false,
        }
    }

    /// The number of the last line returned.
    pub fn line_no(&self) -> usize {
        self.line_no
    }

    /// Remembers the current position; while a mark is held the buffer keeps
    /// everything after it. Only one mark is active at a time.
    pub fn mark(&mut self) -> Mark {
        self.keep = Some(self.pos);
        Mark {
            offset: self.base + self.pos as u64,
            line_no: self.line_no,
        }
    }

    /// Goes back to `mark`: the lines after it will be read again.
    pub fn reset(&mut self, mark: Mark) {
        self.pos = usize::try_from(mark.offset - self.base).unwrap_or(0);
        self.line_no = mark.line_no;
        self.keep = None;
    }

    /// Forgets the mark.
    pub fn release(&mut self) {
        self.keep = None;
    }

    /// Makes room and reads more input; false at the end of input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let from = self.keep.unwrap_or(self.pos).min(self.pos);
        if from > 0 {
            self.buf.copy_within(from..self.end, 0);
            self.end -= from;
            self.pos -= from;
            self.base += from as u64;
            if let Some(k) = &mut self.keep {
                *k -= from;
            }
        }
        if self.end == self.buf.len() {
            // A line (or a look-ahead) longer than the buffer: grow it.
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) if self.skipping => {
                    // The rest of a cut line: keep only what follows its end.
                    let fresh = &self.buf[self.end..self.end + n];
                    let found = if self.cr_mode == Some(true) {
                        memchr::memchr2(b'\r', b'\n', fresh)
                    } else {
                        memchr::memchr(b'\n', fresh)
                    };
                    if let Some(i) = found {
                        self.skipping = false;
                        let from = self.end + i + 1;
                        self.buf.copy_within(from..self.end + n, self.end);
                        self.end += n - (i + 1);
                        return Ok(true);
                    }
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The next line and its number, without its line end.
    ///
    /// # Errors
    /// Only I/O errors of the input.
    pub fn next_line(&mut self) -> io::Result<Option<(usize, Cow<'_, str>)>> {
        Ok(self.next_bytes()?.map(|(n, b)| (n, utf8(b))))
    }

    /// The next line as bytes, not checked for UTF-8 (for lines that are only
    /// measured, or copied and checked later in bulk).
    ///
    /// # Errors
    /// Only I/O errors of the input.
    pub fn next_bytes(&mut self) -> io::Result<Option<(usize, &[u8])>> {
        let (start, stop, next) = loop {
            let data = &self.buf[self.pos..self.end];
            let cr = self.cr_mode.unwrap_or(false);
            let found = if cr {
                memchr::memchr2(b'\r', b'\n', data)
            } else {
                memchr::memchr(b'\n', data)
            };
            if let Some(i) = found {
                let mut next = self.pos + i + 1;
                if cr && data[i] == b'\r' && next < self.end && self.buf[next] == b'\n' {
                    next += 1;
                } else if cr && data[i] == b'\r' && next == self.end && !self.eof {
                    // A `\r\n` may be split across reads: read on, then look again
                    // (reading may move the data, so positions are recomputed).
                    self.fill()?;
                    continue;
                }
                break (self.pos, self.pos + i, next);
            }
            if self.end - self.pos >= MAX_LINE {
                // Cut the line: it ends here, and the rest of it is dropped as
                // it is read (nothing after the cut is a line end).
                let cut = self.pos + MAX_LINE;
                self.buf[cut - 1] = b'\n';
                self.end = cut;
                self.skipping = !self.eof;
                continue;
            }
            if !self.fill()? {
                if self.pos == self.end {
                    return Ok(None);
                }
                break (self.pos, self.end, self.end);
            }
        };
        let mut line = &self.buf[start..stop];
        if self.cr_mode.is_none() {
            // A bare `\r` in the first line means old Mac line ends throughout.
            let body = line.strip_suffix(b"\r").unwrap_or(line);
            if memchr::memchr(b'\r', body).is_some() {
                self.cr_mode = Some(true);
                let i = memchr::memchr(b'\r', line).unwrap_or(line.len());
                self.pos = start + i + 1;
                self.line_no += 1;
                return Ok(Some((self.line_no, &self.buf[start..start + i])));
            }
            self.cr_mode = Some(false);
        }
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        self.pos = next;
        self.line_no += 1;
        let len = line.len();
        Ok(Some((self.line_no, &self.buf[start..start + len])))
    }
}

fn utf8(bytes: &[u8]) -> Cow<'_, str> {
    if bytes.is_ascii() {
        // SAFETY: ASCII is valid UTF-8. The word-at-a-time ASCII check is much
        // cheaper than a full validation on the short lines TAP is made of.
        return Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> Vec<String> {
        let mut lines = Lines::new(input);
        let mut out = Vec::new();
        while let Some((_, l)) = lines.next_line().unwrap() {
            out.push(l.into_owned());
        }
        out
    }

    #[test]
    fn splits_every_kind_of_line_end() {
        assert_eq!(all(b"a\nb\r\nc"), ["a", "b", "c"]);
        assert_eq!(all(b"a\rb\rc\r"), ["a", "b", "c"]);
        assert_eq!(all(b"a\r\nb\r\n"), ["a", "b"]);
        assert_eq!(all(b""), Vec::<String>::new());
        assert_eq!(all(b"\n\n"), ["", ""]);
        assert_eq!(all(b"caf\xe9\n"), ["caf\u{fffd}"]);
        // Found by fuzzing: a stale `\n` past the data must not count as a CRLF.
        let crash =
            b"\r\r\r\r\r\rrsioTA'\0v[ersion 13\n1..3\nok 1 - a\nB\r\r\r\r\r\r\rrsion 13\x1a# S\r\r";
        assert_eq!(all(crash).len(), 18);
    }

    #[test]
    fn an_endless_line_is_cut_and_memory_stays_flat() {
        // 8 MiB without a line end, then a test point.
        let mut input = vec![b'x'; 8 << 20];
        input.extend_from_slice(b"\nok 1 - after\n");
        let mut lines = Lines::new(input.as_slice());
        let (n, first) = lines.next_line().unwrap().unwrap();
        assert_eq!((n, first.len()), (1, MAX_LINE - 1));
        let (n, second) = lines.next_line().unwrap().unwrap();
        assert_eq!((n, second.as_ref()), (2, "ok 1 - after"));
        assert!(lines.next_line().unwrap().is_none());
        assert!(
            lines.buf.len() <= 2 * MAX_LINE,
            "buffer grew to {}",
            lines.buf.len()
        );
        // Cut while a mark is held, then read again from the mark: the same lines.
        let mut lines = Lines::new(input.as_slice());
        let mark = lines.mark();
        let a = lines.next_line().unwrap().unwrap().1.len();
        let b = lines.next_line().unwrap().unwrap().1.into_owned();
        lines.reset(mark);
        assert_eq!(lines.next_line().unwrap().unwrap().1.len(), a);
        assert_eq!(lines.next_line().unwrap().unwrap().1, b);
        assert!(lines.buf.len() <= 2 * MAX_LINE);
    }

    #[test]
    fn marks_survive_refills_and_long_lines() {
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str(&format!("line {i}\n"));
        }
        text.push_str(&"x".repeat(200_000));
        let mut lines = Lines::new(text.as_bytes());
        let (n, _) = lines.next_line().unwrap().unwrap();
        assert_eq!(n, 1);
        let mark = lines.mark();
        for _ in 0..15_000 {
            lines.next_line().unwrap();
        }
        lines.reset(mark);
        let (n, l) = lines.next_line().unwrap().unwrap();
        assert_eq!((n, l.as_ref()), (2, "line 1"));
        let mut last = String::new();
        while let Some((_, l)) = lines.next_line().unwrap() {
            last = l.into_owned();
        }
        assert_eq!(last.len(), 200_000.min(MAX_LINE - 1));
    }
}
