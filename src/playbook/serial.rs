//! `serial:`, Ansible's name for the batch size, in its three forms: a count (`serial: 5`),
//! a share of the play's hosts (`serial: "20%"`), or a list of either (`serial: [1, 5,
//! "20%"]`: a canary batch, then growing batches, the last size repeating until every host
//! has had its turn).

use serde::de::{self, Deserializer};
use serde::Deserialize;

use crate::diagnostic::with_needle;

#[derive(Debug, Clone, PartialEq)]
pub struct Serial(pub Vec<Step>);

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// 0 means every host in one batch.
    Count(usize),
    Percent(f64),
}

impl Serial {
    /// A plain count, which is simply the play's `batch_size`.
    pub fn first_count(&self) -> Option<usize> {
        match self.0.as_slice() {
            [Step::Count(n)] => Some(*n),
            _ => None,
        }
    }

    /// The size of each batch for `hosts` hosts, in order; they add up to `hosts`.
    /// A percentage is of the play's hosts, rounded down, at least 1.
    pub fn batch_sizes(&self, hosts: usize) -> Vec<usize> {
        let size = |step: &Step| match *step {
            Step::Count(0) => hosts.max(1),
            Step::Count(n) => n,
            Step::Percent(p) => ((hosts as f64 * p / 100.0).floor() as usize).max(1),
        };
        let mut out = Vec::new();
        let mut left = hosts;
        let mut steps = self.0.iter();
        let mut last = self.0.last().map_or(hosts.max(1), size);
        while left > 0 {
            let n = steps.next().map_or(last, size);
            last = n;
            let n = n.min(left);
            out.push(n);
            left -= n;
        }
        out
    }
}

impl<'de> Deserialize<'de> for Serial {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(
            untagged,
            expecting = "a batch size: a count, a percentage such as \"20%\", or a list of them"
        )]
        enum Raw {
            One(Step),
            Many(Vec<Step>),
        }
        match Raw::deserialize(d)? {
            Raw::One(s) => Ok(Serial(vec![s])),
            Raw::Many(list) if list.is_empty() => Err(de::Error::custom(
                "`serial` is an empty list: give at least one batch size",
            )),
            Raw::Many(list) => Ok(Serial(list)),
        }
    }
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Count(u64),
            Text(String),
        }
        let bad = |text: &str| {
            de::Error::custom(with_needle(
                format!("`{text}` is not a batch size (a count such as 5, or a percentage such as \"20%\")"),
                text,
            ))
        };
        match Raw::deserialize(d)? {
            Raw::Count(n) => Ok(Step::Count(n as usize)),
            Raw::Text(t) => {
                let trimmed = t.trim();
                if let Some(p) = trimmed.strip_suffix('%') {
                    match p.trim().parse::<f64>() {
                        Ok(p) if p > 0.0 && p <= 100.0 => Ok(Step::Percent(p)),
                        _ => Err(bad(&t)),
                    }
                } else {
                    trimmed
                        .parse::<usize>()
                        .map(Step::Count)
                        .map_err(|_| bad(&t))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(yaml: &str, hosts: usize) -> Vec<usize> {
        serde_yaml::from_str::<Serial>(yaml)
            .unwrap()
            .batch_sizes(hosts)
    }

    #[test]
    fn canary_then_growing_batches() {
        assert_eq!(sizes("[1, '50%']", 5), [1, 2, 2]);
        assert_eq!(sizes("[1, 5, '20%']", 30), [1, 5, 6, 6, 6, 6]);
        assert_eq!(sizes("3", 7), [3, 3, 1]);
        assert_eq!(sizes("'30%'", 10), [3, 3, 3, 1]);
        assert_eq!(sizes("'1%'", 10), [1; 10]);
        assert_eq!(sizes("0", 4), [4]);
        assert_eq!(sizes("[2, 10]", 3), [2, 1]);
        assert!(sizes("5", 0).is_empty());
    }

    #[test]
    fn bad_sizes_are_errors() {
        for bad in ["'abc'", "'0%'", "'150%'", "[]", "-1", "{a: 1}"] {
            assert!(serde_yaml::from_str::<Serial>(bad).is_err(), "{bad}");
        }
    }
}
