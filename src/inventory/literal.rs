//! Values in an INI inventory, typed the way Ansible's `ini` plugin types them: each value is
//! tried as a Python literal (`22`, `1.5`, `True`, `None`, `'quoted'`, `[1, 2]`,
//! `{'a': 1}`), and anything that is not one stays the string it was written as (`yes`,
//! `true`, `010`, `fra`).

use serde_json::{Map, Value};

/// The value Ansible reads for `text`.
pub fn ini_value(text: &str) -> Value {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
    };
    match p.expr() {
        Some(v) if p.at_end() => v,
        _ => Value::String(text.to_string()),
    }
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while let Some(c) = self.s.get(self.i) {
            match c {
                b' ' | b'\t' => self.i += 1,
                b'#' => self.i = self.s.len(),
                _ => break,
            }
        }
    }

    fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.i == self.s.len()
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Option<Value> {
        match self.peek()? {
            b'-' | b'+' => {
                let negative = self.s[self.i] == b'-';
                self.i += 1;
                match self.expr()? {
                    Value::Number(n) if negative => {
                        if let Some(i) = n.as_i64() {
                            Some(Value::from(-i))
                        } else {
                            n.as_f64().map(|f| Value::from(-f))
                        }
                    }
                    v @ Value::Number(_) => Some(v),
                    _ => None,
                }
            }
            b'[' => {
                self.i += 1;
                self.items(b']').map(Value::Array)
            }
            b'(' => {
                self.i += 1;
                let start = self.i;
                let items = self.items(b')')?;
                // `(1)` is 1, `(1,)` a tuple.
                let inner = &self.text[start..self.i - 1];
                if items.len() == 1 && !inner.trim_end().ends_with(',') {
                    items.into_iter().next()
                } else {
                    Some(Value::Array(items))
                }
            }
            b'{' => {
                self.i += 1;
                self.dict_or_set()
            }
            b'\'' | b'"' => self.strings(),
            b'0'..=b'9' | b'.' => self.number(),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = self.i;
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    self.i += 1;
                }
                let word = &self.text[start..self.i];
                if matches!(self.s.get(self.i), Some(b'\'' | b'"'))
                    && matches!(word, "r" | "R" | "u" | "U")
                {
                    self.i = start;
                    return self.strings();
                }
                match word {
                    "True" => Some(Value::Bool(true)),
                    "False" => Some(Value::Bool(false)),
                    "None" => Some(Value::Null),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn items(&mut self, close: u8) -> Option<Vec<Value>> {
        let mut out = Vec::new();
        loop {
            if self.eat(close) {
                return Some(out);
            }
            out.push(self.expr()?);
            if !self.eat(b',') {
                return self.eat(close).then_some(out);
            }
        }
    }

    fn dict_or_set(&mut self) -> Option<Value> {
        if self.eat(b'}') {
            return Some(Value::Object(Map::new()));
        }
        let first = self.expr()?;
        if !self.eat(b':') {
            // A set: Ansible hands it on as a list.
            let mut items = vec![first];
            while self.eat(b',') {
                if self.eat(b'}') {
                    return Some(Value::Array(items));
                }
                items.push(self.expr()?);
            }
            return self.eat(b'}').then_some(Value::Array(items));
        }
        let mut map = Map::new();
        let mut key = first;
        loop {
            let value = self.expr()?;
            map.insert(key_text(&key), value);
            if !self.eat(b',') || self.peek() == Some(b'}') {
                return self.eat(b'}').then_some(Value::Object(map));
            }
            key = self.expr()?;
            if !self.eat(b':') {
                return None;
            }
        }
    }

    /// One or more adjacent string literals, which Python joins.
    fn strings(&mut self) -> Option<Value> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            let raw = matches!(c, b'r' | b'R');
            if matches!(c, b'r' | b'R' | b'u' | b'U') {
                self.i += 1;
            }
            let &quote = self.s.get(self.i)?;
            if quote != b'\'' && quote != b'"' {
                return None;
            }
            out.push_str(&self.string(quote, raw)?);
            match self.peek() {
                Some(b'\'' | b'"') => {}
                Some(b'r' | b'R' | b'u' | b'U')
                    if matches!(self.s.get(self.i + 1), Some(b'\'' | b'"')) => {}
                _ => break,
            }
        }
        Some(Value::String(out))
    }

    fn string(&mut self, quote: u8, raw: bool) -> Option<String> {
        let triple = self.s[self.i..].starts_with(&[quote, quote, quote]);
        self.i += if triple { 3 } else { 1 };
        let mut out = String::new();
        let rest = &self.text[self.i..];
        let mut chars = rest.char_indices();
        while let Some((at, c)) = chars.next() {
            if c as u32 == quote as u32 {
                if !triple {
                    self.i += at + 1;
                    return Some(out);
                }
                if rest[at..].starts_with(std::str::from_utf8(&[quote; 3]).ok()?) {
                    self.i += at + 3;
                    return Some(out);
                }
                out.push(c);
            } else if c == '\\' && !raw {
                let (_, e) = chars.next()?;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '0' => out.push('\0'),
                    '\\' | '\'' | '"' => out.push(e),
                    '\n' => {}
                    'x' | 'u' => {
                        let len = if e == 'x' { 2 } else { 4 };
                        let hex: String = (0..len)
                            .filter_map(|_| chars.next().map(|(_, c)| c))
                            .collect();
                        out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    }
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
            } else if c == '\n' && !triple {
                return None;
            } else {
                out.push(c);
            }
        }
        None
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.'))
            || (matches!(self.s.get(self.i), Some(b'+' | b'-'))
                && matches!(self.s.get(self.i - 1), Some(b'e' | b'E'))
                && !self.text[start..self.i].starts_with("0x"))
        {
            self.i += 1;
        }
        number(&self.text[start..self.i])
    }
}

/// A Python int or float literal.
fn number(t: &str) -> Option<Value> {
    if t.starts_with('_') || t.ends_with('_') || t.contains("__") {
        return None;
    }
    let lower = t.to_ascii_lowercase();
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(digits) = lower.strip_prefix(prefix) {
            let digits = digits.strip_prefix('_').unwrap_or(digits).replace('_', "");
            return i64::from_str_radix(&digits, radix).ok().map(Value::from);
        }
    }
    let plain = t.replace('_', "");
    if plain.bytes().all(|b| b.is_ascii_digit()) {
        // Python 3 has no leading zeros except in zero itself.
        if plain.len() > 1 && plain.starts_with('0') && plain.bytes().any(|b| b != b'0') {
            return None;
        }
        return plain.parse::<i64>().ok().map(Value::from);
    }
    let valid = plain
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && plain.bytes().any(|b| b.is_ascii_digit());
    if !valid {
        return None;
    }
    plain
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(Value::from)
}

fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::ini_value;
    use serde_json::json;

    #[test]
    fn python_literals_and_strings() {
        assert_eq!(ini_value("22"), json!(22));
        assert_eq!(ini_value("-3"), json!(-3));
        assert_eq!(ini_value("1.5"), json!(1.5));
        assert_eq!(ini_value("1e3"), json!(1000.0));
        assert_eq!(ini_value("0x10"), json!(16));
        assert_eq!(ini_value("1_000"), json!(1000));
        assert_eq!(ini_value("010"), json!("010"));
        assert_eq!(ini_value("True"), json!(true));
        assert_eq!(ini_value("true"), json!("true"));
        assert_eq!(ini_value("yes"), json!("yes"));
        assert_eq!(ini_value("None"), json!(null));
        assert_eq!(ini_value("'q'"), json!("q"));
        assert_eq!(ini_value("\"a\" 'b'"), json!("ab"));
        assert_eq!(ini_value("[1, 'a', [True]]"), json!([1, "a", [true]]));
        assert_eq!(ini_value("{'a': 1, 'b': [2]}"), json!({"a": 1, "b": [2]}));
        assert_eq!(ini_value("(1, 2)"), json!([1, 2]));
        assert_eq!(ini_value("22 # port"), json!(22));
        assert_eq!(ini_value("10.0.0.1"), json!("10.0.0.1"));
        assert_eq!(ini_value("fra # comment"), json!("fra # comment"));
        assert_eq!(ini_value("a b"), json!("a b"));
        assert_eq!(ini_value(""), json!(""));
    }
}
