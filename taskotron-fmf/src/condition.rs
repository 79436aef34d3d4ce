//! fmf's `--condition`: a Python expression evaluated with a node's keys as its
//! names (`tier == '1' and 'quick' in tag`). fmf hands it to Python's `eval`; we
//! read the part of Python such conditions use — literals, names, comparisons
//! (chained), `in`/`not in`, `is [not] None`, `and`/`or`/`not`, arithmetic,
//! subscripts, `len`/`str`/`int` and the string methods `startswith`, `endswith`,
//! `lower`, `upper` — with Python's semantics for the JSON values a node holds.
//! Anything else is a clear error rather than a guess. Pure.

use serde_json::{Map, Value};

/// Why a condition could not be decided.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConditionError {
    /// The text is no expression we read (the byte offset, what was expected).
    #[error("condition `{text}`: {what} at column {column}")]
    Syntax {
        /// The condition.
        text: String,
        /// 1-based column.
        column: usize,
        /// What went wrong.
        what: String,
    },
    /// A name that is no key of the node (fmf's `FilterError`).
    #[error("Key is not defined in data: name '{0}' is not defined")]
    Undefined(String),
    /// An operation Python would refuse (`'a' < 1`, `len(3)`).
    #[error("condition: {0}")]
    Type(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(Value),
    Str(String),
    Name(String),
    Op(&'static str),
    End,
}

const OPS: [&str; 19] = [
    "==", "!=", "<=", ">=", "//", "<", ">", "+", "-", "*", "/", "%", "(", ")", "[", "]", ",", ".",
    ":",
];

fn lex(text: &str) -> Result<Vec<(Tok, usize)>, ConditionError> {
    let err = |at: usize, what: &str| ConditionError::Syntax {
        text: text.to_string(),
        column: at + 1,
        what: what.to_string(),
    };
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b'_') {
                i += 1;
            }
            let s = text[start..i].replace('_', "");
            let v = if s.contains('.') {
                s.parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
            } else {
                s.parse::<i64>().ok().map(Value::from)
            };
            out.push((Tok::Num(v.ok_or_else(|| err(start, "a number"))?), start));
        } else if c == b'\'' || c == b'"' {
            let start = i;
            i += 1;
            let mut s = String::new();
            loop {
                let Some(ch) = text[i..].chars().next() else {
                    return Err(err(start, "an unterminated string"));
                };
                i += ch.len_utf8();
                match ch {
                    '\\' => {
                        let Some(e) = text[i..].chars().next() else {
                            return Err(err(start, "an unterminated string"));
                        };
                        i += e.len_utf8();
                        s.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                    }
                    q if q as u32 == u32::from(c) => break,
                    other => s.push(other),
                }
            }
            out.push((Tok::Str(s), start));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push((Tok::Name(text[start..i].to_string()), start));
        } else if let Some(op) = OPS.iter().find(|op| text[i..].starts_with(**op)) {
            out.push((Tok::Op(op), i));
            i += op.len();
        } else {
            return Err(err(i, "an unexpected character"));
        }
    }
    out.push((Tok::End, text.len()));
    Ok(out)
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Lit(Value),
    Name(String),
    List(Vec<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    /// `a < b <= c`: the operands and the operators between them.
    Compare(Vec<Expr>, Vec<&'static str>),
    Arith(&'static str, Box<Expr>, Box<Expr>),
    Index(Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
    Method(Box<Expr>, String, Vec<Expr>),
}

struct Parser<'a> {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }
    fn err(&self, what: &str) -> ConditionError {
        ConditionError::Syntax {
            text: self.text.to_string(),
            column: self.toks[self.pos].1 + 1,
            what: format!("expected {what}"),
        }
    }
    fn eat_op(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Tok::Op(o) if *o == op) {
            self.pos += 1;
            return true;
        }
        false
    }
    fn eat_word(&mut self, w: &str) -> bool {
        if matches!(self.peek(), Tok::Name(n) if n == w) {
            self.pos += 1;
            return true;
        }
        false
    }
    fn expect_op(&mut self, op: &str) -> Result<(), ConditionError> {
        if self.eat_op(op) {
            Ok(())
        } else {
            Err(self.err(&format!("`{op}`")))
        }
    }

    fn or(&mut self) -> Result<Expr, ConditionError> {
        let mut e = self.and()?;
        while self.eat_word("or") {
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }
    fn and(&mut self) -> Result<Expr, ConditionError> {
        let mut e = self.not()?;
        while self.eat_word("and") {
            e = Expr::And(Box::new(e), Box::new(self.not()?));
        }
        Ok(e)
    }
    fn not(&mut self) -> Result<Expr, ConditionError> {
        if self.eat_word("not") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.compare()
    }
    fn compare(&mut self) -> Result<Expr, ConditionError> {
        let first = self.arith()?;
        let (mut operands, mut ops) = (vec![first], Vec::new());
        loop {
            let op = match self.peek() {
                Tok::Op(o @ ("==" | "!=" | "<" | "<=" | ">" | ">=")) => {
                    let o = *o;
                    self.pos += 1;
                    o
                }
                Tok::Name(n) if n == "in" => {
                    self.pos += 1;
                    "in"
                }
                Tok::Name(n) if n == "not" => {
                    self.pos += 1;
                    if !self.eat_word("in") {
                        return Err(self.err("`in` after `not`"));
                    }
                    "not in"
                }
                Tok::Name(n) if n == "is" => {
                    self.pos += 1;
                    if self.eat_word("not") {
                        "is not"
                    } else {
                        "is"
                    }
                }
                _ => break,
            };
            ops.push(op);
            operands.push(self.arith()?);
        }
        Ok(if ops.is_empty() {
            operands.pop().unwrap_or(Expr::Lit(Value::Null))
        } else {
            Expr::Compare(operands, ops)
        })
    }
    fn arith(&mut self) -> Result<Expr, ConditionError> {
        let mut e = self.term()?;
        loop {
            let op = match self.peek() {
                Tok::Op(o @ ("+" | "-")) => *o,
                _ => return Ok(e),
            };
            self.pos += 1;
            e = Expr::Arith(op, Box::new(e), Box::new(self.term()?));
        }
    }
    fn term(&mut self) -> Result<Expr, ConditionError> {
        let mut e = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Op(o @ ("*" | "/" | "%" | "//")) => *o,
                _ => return Ok(e),
            };
            self.pos += 1;
            e = Expr::Arith(op, Box::new(e), Box::new(self.unary()?));
        }
    }
    fn unary(&mut self) -> Result<Expr, ConditionError> {
        if self.eat_op("-") {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        if self.eat_op("+") {
            return self.unary();
        }
        self.postfix()
    }
    fn args(&mut self) -> Result<Vec<Expr>, ConditionError> {
        let mut args = Vec::new();
        if self.eat_op(")") {
            return Ok(args);
        }
        loop {
            args.push(self.or()?);
            if self.eat_op(")") {
                return Ok(args);
            }
            self.expect_op(",")?;
        }
    }
    fn postfix(&mut self) -> Result<Expr, ConditionError> {
        let mut e = self.atom()?;
        loop {
            if self.eat_op("[") {
                let i = self.or()?;
                self.expect_op("]")?;
                e = Expr::Index(Box::new(e), Box::new(i));
            } else if self.eat_op(".") {
                let Tok::Name(m) = self.peek().clone() else {
                    return Err(self.err("a method name"));
                };
                self.pos += 1;
                self.expect_op("(")?;
                e = Expr::Method(Box::new(e), m, self.args()?);
            } else if self.eat_op("(") {
                let Expr::Name(f) = e else {
                    return Err(self.err("a function name before `(`"));
                };
                e = Expr::Call(f, self.args()?);
            } else {
                return Ok(e);
            }
        }
    }
    fn atom(&mut self) -> Result<Expr, ConditionError> {
        let tok = self.peek().clone();
        self.pos += 1;
        Ok(match tok {
            Tok::Num(v) => Expr::Lit(v),
            Tok::Str(mut s) => {
                // Adjacent literals concatenate, as in Python.
                while let Tok::Str(t) = self.peek().clone() {
                    s.push_str(&t);
                    self.pos += 1;
                }
                Expr::Lit(Value::String(s))
            }
            Tok::Name(n) => match n.as_str() {
                "True" => Expr::Lit(Value::Bool(true)),
                "False" => Expr::Lit(Value::Bool(false)),
                "None" => Expr::Lit(Value::Null),
                "and" | "or" | "not" | "in" | "is" | "if" | "else" | "lambda" | "for" => {
                    self.pos -= 1;
                    return Err(self.err("a value"));
                }
                _ => Expr::Name(n),
            },
            Tok::Op("(") => {
                let e = self.or()?;
                self.expect_op(")")?;
                e
            }
            Tok::Op("[") => {
                let mut items = Vec::new();
                if !self.eat_op("]") {
                    loop {
                        items.push(self.or()?);
                        if self.eat_op("]") {
                            break;
                        }
                        self.expect_op(",")?;
                        if self.eat_op("]") {
                            break;
                        }
                    }
                }
                Expr::List(items)
            }
            _ => {
                self.pos -= 1;
                return Err(self.err("a value"));
            }
        })
    }
}

/// A parsed condition, ready to be evaluated against many nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition(Expr);

impl Condition {
    /// Parses `text`.
    ///
    /// # Errors
    /// Text that is no expression of the subset, with its column.
    pub fn parse(text: &str) -> Result<Self, ConditionError> {
        let mut p = Parser {
            toks: lex(text)?,
            pos: 0,
            text,
        };
        let e = p.or()?;
        if *p.peek() != Tok::End {
            return Err(p.err("the end of the condition"));
        }
        Ok(Self(e))
    }

    /// Whether the condition holds for a node with `data`.
    ///
    /// # Errors
    /// A name the node does not have, or an operation Python would refuse.
    pub fn holds(&self, data: &Map<String, Value>) -> Result<bool, ConditionError> {
        eval(&self.0, data).map(|v| truthy(&v))
    }
}

/// Python's truth of a value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// A number as Python sees it (`True` is 1).
fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Python's `==`.
fn equal(a: &Value, b: &Value) -> bool {
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x == y,
        _ => match (a, b) {
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equal(p, q))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
            }
            _ => a == b,
        },
    }
}

/// Python's ordering, where it has one.
fn order(a: &Value, b: &Value, op: &str) -> Result<std::cmp::Ordering, ConditionError> {
    if let (Some(x), Some(y)) = (num(a), num(b)) {
        return x
            .partial_cmp(&y)
            .ok_or_else(|| ConditionError::Type("a number that is NaN".into()));
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                if !equal(p, q) {
                    return order(p, q, op);
                }
            }
            Ok(x.len().cmp(&y.len()))
        }
        _ => Err(ConditionError::Type(format!(
            "'{op}' not supported between instances of '{}' and '{}'",
            type_name(a),
            type_name(b)
        ))),
    }
}

fn contains(container: &Value, item: &Value) -> Result<bool, ConditionError> {
    match container {
        Value::Array(a) => Ok(a.iter().any(|x| equal(x, item))),
        Value::Object(o) => Ok(item.as_str().is_some_and(|k| o.contains_key(k))),
        Value::String(s) => match item {
            Value::String(sub) => Ok(s.contains(sub.as_str())),
            other => Err(ConditionError::Type(format!(
                "'in <string>' requires string as left operand, not {}",
                type_name(other)
            ))),
        },
        other => Err(ConditionError::Type(format!(
            "argument of type '{}' is not iterable",
            type_name(other)
        ))),
    }
}

fn number(f: f64, ints: bool) -> Value {
    if ints && f.fract() == 0.0 && f.abs() < 9e15 {
        // Exact: the operands were integers and the result is one.
        #[allow(clippy::cast_possible_truncation)]
        return Value::from(f as i64);
    }
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

fn is_int(v: &Value) -> bool {
    matches!(v, Value::Bool(_)) || v.as_i64().is_some()
}

fn arith(op: &str, a: &Value, b: &Value) -> Result<Value, ConditionError> {
    let refuse = || {
        ConditionError::Type(format!(
            "unsupported operand type(s) for {op}: '{}' and '{}'",
            type_name(a),
            type_name(b)
        ))
    };
    match (op, a, b) {
        ("+", Value::String(x), Value::String(y)) => return Ok(Value::String(format!("{x}{y}"))),
        ("+", Value::Array(x), Value::Array(y)) => {
            return Ok(Value::Array(x.iter().chain(y).cloned().collect()))
        }
        ("*", Value::String(s), n) | ("*", n, Value::String(s)) if is_int(n) => {
            let times = usize::try_from(n.as_i64().unwrap_or(i64::from(n == &Value::Bool(true))))
                .unwrap_or(0)
                .min(10_000);
            return Ok(Value::String(s.repeat(times)));
        }
        _ => {}
    }
    let (Some(x), Some(y)) = (num(a), num(b)) else {
        return Err(refuse());
    };
    let ints = is_int(a) && is_int(b);
    match op {
        "+" => Ok(number(x + y, ints)),
        "-" => Ok(number(x - y, ints)),
        "*" => Ok(number(x * y, ints)),
        "/" if y == 0.0 => Err(ConditionError::Type("division by zero".into())),
        "/" => Ok(number(x / y, false)),
        "//" | "%" if y == 0.0 => Err(ConditionError::Type(
            "integer division or modulo by zero".into(),
        )),
        "//" => Ok(number((x / y).floor(), ints)),
        // Python's modulo takes the divisor's sign.
        "%" => Ok(number(x - y * (x / y).floor(), ints)),
        _ => Err(refuse()),
    }
}

fn eval(e: &Expr, data: &Map<String, Value>) -> Result<Value, ConditionError> {
    Ok(match e {
        Expr::Lit(v) => v.clone(),
        Expr::Name(n) => data
            .get(n)
            .cloned()
            .ok_or_else(|| ConditionError::Undefined(n.clone()))?,
        Expr::List(items) => Value::Array(
            items
                .iter()
                .map(|i| eval(i, data))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Not(x) => Value::Bool(!truthy(&eval(x, data)?)),
        Expr::Neg(x) => {
            let v = eval(x, data)?;
            match num(&v) {
                Some(f) => number(-f, is_int(&v)),
                None => {
                    return Err(ConditionError::Type(format!(
                        "bad operand type for unary -: '{}'",
                        type_name(&v)
                    )))
                }
            }
        }
        // Python's `and`/`or` give an operand, not a bool.
        Expr::And(a, b) => {
            let x = eval(a, data)?;
            if truthy(&x) {
                eval(b, data)?
            } else {
                x
            }
        }
        Expr::Or(a, b) => {
            let x = eval(a, data)?;
            if truthy(&x) {
                x
            } else {
                eval(b, data)?
            }
        }
        Expr::Compare(operands, ops) => {
            let mut left = eval(&operands[0], data)?;
            for (op, right) in ops.iter().zip(&operands[1..]) {
                let right = eval(right, data)?;
                let holds = match *op {
                    "==" => equal(&left, &right),
                    "!=" => !equal(&left, &right),
                    "<" => order(&left, &right, op)?.is_lt(),
                    "<=" => order(&left, &right, op)?.is_le(),
                    ">" => order(&left, &right, op)?.is_gt(),
                    ">=" => order(&left, &right, op)?.is_ge(),
                    "in" => contains(&right, &left)?,
                    "not in" => !contains(&right, &left)?,
                    // Identity: only None (and the booleans) are singletons here.
                    "is" => left == right && matches!(left, Value::Null | Value::Bool(_)),
                    _ => !(left == right && matches!(left, Value::Null | Value::Bool(_))),
                };
                if !holds {
                    return Ok(Value::Bool(false));
                }
                left = right;
            }
            Value::Bool(true)
        }
        Expr::Arith(op, a, b) => arith(op, &eval(a, data)?, &eval(b, data)?)?,
        Expr::Index(x, i) => {
            let (v, i) = (eval(x, data)?, eval(i, data)?);
            let at = |len: usize| -> Result<usize, ConditionError> {
                let n = i.as_i64().ok_or_else(|| {
                    ConditionError::Type(format!("indices must be integers, not {}", type_name(&i)))
                })?;
                let len = i64::try_from(len).unwrap_or(i64::MAX);
                let k = if n < 0 { n + len } else { n };
                usize::try_from(k)
                    .ok()
                    .filter(|k| (*k as i64) < len)
                    .ok_or_else(|| ConditionError::Type("index out of range".into()))
            };
            match &v {
                Value::Array(a) => a[at(a.len())?].clone(),
                Value::String(s) => {
                    let chars: Vec<char> = s.chars().collect();
                    Value::String(chars[at(chars.len())?].to_string())
                }
                Value::Object(o) => o
                    .get(i.as_str().unwrap_or_default())
                    .cloned()
                    .ok_or_else(|| ConditionError::Type(format!("KeyError: {i}")))?,
                other => {
                    return Err(ConditionError::Type(format!(
                        "'{}' object is not subscriptable",
                        type_name(other)
                    )))
                }
            }
        }
        Expr::Call(f, args) => {
            let args: Vec<Value> = args
                .iter()
                .map(|a| eval(a, data))
                .collect::<Result<_, _>>()?;
            match (f.as_str(), args.as_slice()) {
                ("len", [Value::String(s)]) => Value::from(s.chars().count()),
                ("len", [Value::Array(a)]) => Value::from(a.len()),
                ("len", [Value::Object(o)]) => Value::from(o.len()),
                ("bool", [v]) => Value::Bool(truthy(v)),
                ("str", [Value::String(s)]) => Value::String(s.clone()),
                ("str", [v]) if num(v).is_some() && !v.is_boolean() => Value::String(v.to_string()),
                ("int", [v]) if is_int(v) => Value::from(num(v).unwrap_or(0.0) as i64),
                ("int", [Value::String(s)]) => {
                    Value::from(s.trim().parse::<i64>().map_err(|_| {
                        ConditionError::Type(format!(
                            "invalid literal for int() with base 10: '{s}'"
                        ))
                    })?)
                }
                ("len" | "bool" | "str" | "int", _) => {
                    return Err(ConditionError::Type(format!(
                        "{f}() of {}",
                        args.first().map_or("nothing", type_name)
                    )))
                }
                _ if data.contains_key(f) => {
                    return Err(ConditionError::Type(format!("'{f}' is not callable")))
                }
                _ => return Err(ConditionError::Undefined(f.clone())),
            }
        }
        Expr::Method(x, m, args) => {
            let v = eval(x, data)?;
            let args: Vec<Value> = args
                .iter()
                .map(|a| eval(a, data))
                .collect::<Result<_, _>>()?;
            match (&v, m.as_str(), args.as_slice()) {
                (Value::String(s), "startswith", [Value::String(p)]) => Value::Bool(s.starts_with(p.as_str())),
                (Value::String(s), "endswith", [Value::String(p)]) => Value::Bool(s.ends_with(p.as_str())),
                (Value::String(s), "lower", []) => Value::String(s.to_lowercase()),
                (Value::String(s), "upper", []) => Value::String(s.to_uppercase()),
                _ => {
                    return Err(ConditionError::Type(format!(
                        "'{}' object has no method '{m}' here (startswith, endswith, lower, upper on strings)",
                        type_name(&v)
                    )))
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn holds(text: &str, data: &Value) -> Result<bool, ConditionError> {
        Condition::parse(text)?.holds(data.as_object().unwrap())
    }

    #[test]
    fn conditions_read_as_python_reads_them() {
        let d = json!({"tier": "1", "tag": ["quick", "sanity"], "duration": "5m", "order": 50, "enabled": true, "x": null});
        for (text, want) in [
            ("tier == '1'", true),
            ("tier == 1", false),
            ("'quick' in tag and not 'slow' in tag", true),
            ("'slow' not in tag", true),
            ("order > 10 and order <= 50", true),
            ("10 < order < 50", false),
            ("x is None", true),
            ("x is not None or enabled", true),
            ("len(tag) == 2", true),
            ("duration.endswith('m')", true),
            ("tag[-1] == 'sanity'", true),
            ("order % 7 == 1", true),
            ("order // 7 == 7", true),
            ("[1, 2] < [1, 3]", true),
            ("'s' in 'sanity'", true),
            ("True == 1", true),
            ("order", true),
            ("''", false),
        ] {
            assert_eq!(holds(text, &d), Ok(want), "{text}");
        }
    }

    #[test]
    fn what_python_would_refuse_is_an_error_that_says_so() {
        let d = json!({"tier": "1", "order": 50});
        assert_eq!(
            holds("component == 'x'", &d),
            Err(ConditionError::Undefined("component".into()))
        );
        assert!(
            matches!(holds("tier < 2", &d), Err(ConditionError::Type(m)) if m.contains("'<' not supported between instances of 'str' and 'int'"))
        );
        assert!(matches!(
            holds("tier ==", &d),
            Err(ConditionError::Syntax { column: 8, .. })
        ));
        assert!(matches!(
            holds("tier = '1'", &d),
            Err(ConditionError::Syntax { .. })
        ));
        assert!(matches!(
            holds("'open", &d),
            Err(ConditionError::Syntax { .. })
        ));
        // `and` short-circuits as in Python: the undefined name is never looked up.
        assert_eq!(holds("order < 0 and nosuch", &d), Ok(false));
    }
}
