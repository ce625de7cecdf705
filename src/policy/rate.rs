//! A connection rate as users write it (`20/s`, `300/m`, `120/h`, `5/10s`). The limiter that
//! applies it is the engine's (`engine::rate_limit`); the type lives here so settings and
//! the playbook can name it without reaching into the engine.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// New connections per time: `count` per `per`, written `20/s`, `300/m`, `120/h`, `5/10s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

const UNITS: [(&str, u64); 4] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)];

impl FromStr for Rate {
    type Err = String;

    fn from_str(text: &str) -> Result<Rate, String> {
        let not_a_rate = || format!("`{text}` is not a rate (expected e.g. 20/s, 300/m, 120/h)");
        let too_large = || format!("`{text}` is not a rate: a number in it is too large");
        let (count, period) = text.split_once('/').ok_or_else(not_a_rate)?;
        let count: u32 = parse_digits(count)
            .ok_or_else(not_a_rate)?
            .map_err(|_| too_large())?;
        let digits = period.len()
            - period
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .len();
        let (number, unit) = period.split_at(digits);
        let &(_, unit_ms) = UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .ok_or_else(not_a_rate)?;
        let number: u64 = match number {
            "" => 1,
            n => parse_digits(n)
                .ok_or_else(not_a_rate)?
                .map_err(|_| too_large())?,
        };
        let per_ms = number.checked_mul(unit_ms).ok_or_else(too_large)?;
        if count == 0 || per_ms == 0 {
            return Err(format!(
                "`{text}` is not a rate: count and period must both be above zero (e.g. 20/s)"
            ));
        }
        Ok(Rate {
            count,
            per: Duration::from_millis(per_ms),
        })
    }
}

/// `None` unless `s` is all ASCII digits (so no sign, space or `_`); `Some(Err)` on overflow.
fn parse_digits<N: FromStr>(s: &str) -> Option<Result<N, N::Err>> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse())
}

/// The canonical form: the largest unit that divides the period, its number left out when it
/// is 1 (`Rate { count: 5, per: 60s }` shows as `5/m`). It parses back to the same `Rate`. A
/// period that is not whole milliseconds (only possible when built by hand) shows in `Debug`
/// form (`1.5ms`), which does not parse.
impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exact_ms = u64::try_from(self.per.as_millis())
            .ok()
            .filter(|&ms| ms > 0 && Duration::from_millis(ms) == self.per);
        let Some(ms) = exact_ms else {
            return write!(f, "{}/{:?}", self.count, self.per);
        };
        let (unit, unit_ms) = UNITS
            .iter()
            .rev()
            .find(|(_, unit_ms)| ms % unit_ms == 0)
            .copied()
            .unwrap_or(("ms", 1));
        match ms / unit_ms {
            1 => write!(f, "{}/{unit}", self.count),
            n => write!(f, "{}/{n}{unit}", self.count),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Rate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Rate, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse()
            .map_err(|e| serde::de::Error::custom(crate::diagnostic::with_needle(e, &text)))
    }
}

impl serde::Serialize for Rate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
