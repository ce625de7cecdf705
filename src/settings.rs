//! Run settings: defaults, overridden by play keys, overridden by CLI flags. Each setting is
//! declared once, in [`run_settings!`] below — name, type, default, play key, CLI flag, help
//! — and the settings struct, the overrides, the play keys (`play_keys!`), the CLI flags
//! (`SettingsArgs`), the report's `settings` block and the README's table ([`table`]) all
//! come from that declaration.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use crate::policy::{Backoff, BreakerPolicy};

pub use crate::policy::Rate;

/// How hosts are scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// A batch connects, runs and disconnects before the next batch starts.
    Batched,
    /// A window of `concurrency` hosts; the next host starts as one ends.
    Rolling,
}

impl Strategy {
    /// The name a play key and a flag use.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Batched => "batched",
            Strategy::Rolling => "rolling",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the settings table: for `--help`, the README and `drover check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingDoc {
    pub name: &'static str,
    /// The play key, when the setting has one of its own (the breaker's two are under
    /// `circuit_breaker:`).
    pub play_key: Option<&'static str>,
    pub flag: &'static str,
    pub help: &'static str,
    pub default: &'static str,
}

/// Declares every run setting once. Each entry:
/// `name: Type = default, input Type, flag "--flag" "VALUE", default "shown", [play,]
///  serde [attrs], arg [clap attrs], help "text";`
/// where `input` is what a play key and a flag parse into (converted with `From`).
macro_rules! run_settings {
    (@key $play:ident) => { Some(stringify!($play)) };
    (@key) => { None };
    ($d:tt $(
        $field:ident: $ty:ty = $default:expr,
        input $input:ty,
        flag $flag:literal $value_name:literal,
        default $shown:literal,
        $( play $play:ident, )?
        serde [$($sattr:meta),*],
        arg [$($aattr:tt)*],
        help $help:literal;
    )*) => {
        /// The settings one play runs with.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub struct RunSettings {
            $(
                #[doc = $help]
                #[serde($($sattr),*)]
                pub $field: $ty,
            )*
        }

        impl Default for RunSettings {
            fn default() -> RunSettings {
                RunSettings { $( $field: $default, )* }
            }
        }

        /// Settings given by a play or on the command line; `None` keeps what is below.
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct Overrides {
            $( pub $field: Option<$ty>, )*
        }

        impl RunSettings {
            pub fn with(mut self, o: &Overrides) -> RunSettings {
                $(
                    if let Some(v) = &o.$field {
                        self.$field = v.clone();
                    }
                )*
                self
            }
        }

        /// Run settings given on the command line; they override the play's.
        #[derive(Debug, clap::Args, Clone, Default)]
        pub struct SettingsArgs {
            $(
                #[arg(
                    long = $flag,
                    value_name = $value_name,
                    help = concat!($help, " [default: ", $shown, "]"),
                    $($aattr)*
                )]
                pub $field: Option<$input>,
            )*
        }

        impl SettingsArgs {
            pub fn overrides(&self) -> Overrides {
                Overrides {
                    $( $field: self.$field.clone().map(<$ty>::from), )*
                }
            }
        }

        /// Every setting, in declaration order.
        pub fn table() -> &'static [SettingDoc] {
            &[$(
                SettingDoc {
                    name: stringify!($field),
                    play_key: run_settings!(@key $($play)?),
                    flag: concat!("--", $flag),
                    help: $help,
                    default: $shown,
                },
            )*]
        }

        /// Adds the play keys of the settings that have one to a play struct (`#[serde(default)]`
        /// fields of their input types) and gives it `settings_overrides()`, which reads them.
        macro_rules! play_keys {
            ($d(#[$d meta:meta])* $d vis:vis struct $d name:ident { $d($d body:tt)* }) => {
                $d(#[$d meta])*
                $d vis struct $d name {
                    $d($d body)*
                    $($(
                        #[serde(default)]
                        $play: Option<$input>,
                    )?)*
                }

                impl $d name {
                    /// The run settings this play's own keys set.
                    fn settings_overrides(&self) -> crate::settings::Overrides {
                        crate::settings::Overrides {
                            $($( $play: self.$play.clone().map(<$ty>::from), )?)*
                            ..crate::settings::Overrides::default()
                        }
                    }
                }
            };
        }
        pub(crate) use play_keys;
    };
}

run_settings! { $
    batch_size: usize = 10,
        input usize, flag "batch-size" "N", default "10", play batch_size,
        serde [], arg [],
        help "Hosts per batch; a batch connects, runs and disconnects before the next starts; 0 = one batch";
    strategy: crate::settings::Strategy = Strategy::Batched,
        input crate::settings::Strategy, flag "strategy" "STRATEGY", default "batched", play strategy,
        serde [], arg [value_enum],
        help "batched, or rolling: a window of `concurrency` hosts, the next starts as one ends";
    concurrency: usize = 10,
        input usize, flag "concurrency" "N", default "10", play concurrency,
        serde [], arg [short = 'f', visible_alias = "forks", env = "DROVER_CONCURRENCY", value_parser = positive],
        help "Most hosts in flight at once (in batched, never above batch_size)";
    connect_timeout: std::time::Duration = Duration::from_secs(10),
        input crate::settings::DurationValue, flag "connect-timeout" "DURATION", default "10s", play connect_timeout,
        serde [with = "millis"], arg [],
        help "Per connection attempt";
    command_timeout: std::time::Duration = Duration::from_secs(8),
        input crate::settings::DurationValue, flag "command-timeout" "DURATION", default "8s", play command_timeout,
        serde [with = "millis"], arg [],
        help "Per command, output included; then what it started is killed (a task's `timeout` overrides it)";
    host_timeout: Option<std::time::Duration> = None,
        input crate::settings::DurationValue, flag "host-timeout" "DURATION", default "none", play host_timeout,
        serde [with = "opt_millis"], arg [],
        help "Whole-host deadline; a command it cuts short is killed";
    batch_pause: std::time::Duration = Duration::ZERO,
        input crate::settings::DurationValue, flag "batch-pause" "DURATION", default "0s", play batch_pause,
        serde [with = "millis"], arg [],
        help "Wait between batches";
    rate: crate::settings::Rate = Rate { count: 20, per: Duration::from_secs(1) },
        input crate::settings::Rate, flag "rate" "RATE", default "20/s", play rate,
        serde [], arg [env = "DROVER_RATE"],
        help "New connections per time, fleet-wide and across batches: 20/s, 300/m, 120/h, 5/10s";
    burst: u32 = 1,
        input u32, flag "burst" "N", default "1", play burst,
        serde [], arg [value_parser = clap::value_parser!(u32).range(1..)],
        help "Connections that may start at once after an idle spell (1 = evenly spaced)";
    gateway_rate: Option<crate::settings::Rate> = None,
        input crate::settings::Rate, flag "gateway-rate" "RATE", default "none", play gateway_rate,
        serde [], arg [],
        help "New connections per time through one gateway (the `gateway` var, else the first jump host, else the broker)";
    retries: u32 = 2,
        input u32, flag "retries" "N", default "2", play retries,
        serde [], arg [],
        help "Connection attempts after the first, for transient failures only";
    backoff: std::time::Duration = Duration::from_secs(2),
        input crate::settings::DurationValue, flag "backoff" "DURATION", default "2s", play backoff,
        serde [with = "millis"], arg [],
        help "Base of the exponential backoff between connection attempts (full jitter)";
    backoff_cap: std::time::Duration = Duration::from_secs(60),
        input crate::settings::DurationValue, flag "backoff-cap" "DURATION", default "60s", play backoff_cap,
        serde [with = "millis"], arg [],
        help "Longest wait between connection attempts";
    breaker_threshold: u32 = 3,
        input u32, flag "breaker-threshold" "N", default "3",
        serde [], arg [],
        help "Consecutive transport failures that open a host's circuit breaker; 0 = off (play: circuit_breaker.threshold)";
    breaker_cooldown: std::time::Duration = Duration::from_secs(180),
        input crate::settings::DurationValue, flag "breaker-cooldown" "DURATION", default "180s",
        serde [with = "millis"], arg [],
        help "How long an open breaker skips its host before one probe (play: circuit_breaker.cooldown)";
    max_fail_percentage: Option<f64> = None,
        input crate::settings::Percentage, flag "max-fail-percentage" "PERCENT", default "none", play max_fail_percentage,
        serde [], arg [],
        help "Stop starting hosts once more than this share of the finished hosts failed (exit 3)";
    min_hosts_done: usize = 1,
        input usize, flag "min-hosts-done" "N", default "1", play min_hosts_done,
        serde [], arg [],
        help "Finished hosts needed before max_fail_percentage is judged";
    any_errors_fatal: bool = false,
        input bool, flag "any-errors-fatal" "BOOL", default "false", play any_errors_fatal,
        serde [], arg [num_args = 0..=1, default_missing_value = "true", require_equals = true],
        help "Stop starting hosts at the first failed host (exit 3)";
}

/// `--concurrency`: at least 1.
fn positive(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("`{text}` is not a number from 1 up")),
    }
}

/// A percentage from 0 to 100, as a play key or a flag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percentage(pub f64);

impl std::str::FromStr for Percentage {
    type Err = String;
    fn from_str(text: &str) -> Result<Percentage, String> {
        match text.parse::<f64>() {
            Ok(p) if (0.0..=100.0).contains(&p) => Ok(Percentage(p)),
            _ => Err(format!("`{text}` is not a percentage from 0 to 100")),
        }
    }
}

impl<'de> Deserialize<'de> for Percentage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(d)?;
        if (0.0..=100.0).contains(&value) {
            Ok(Percentage(value))
        } else {
            Err(serde::de::Error::custom(crate::diagnostic::with_needle(
                format!("a percentage must be from 0 to 100, not {value}"),
                &value.to_string(),
            )))
        }
    }
}

impl From<Percentage> for Option<f64> {
    fn from(p: Percentage) -> Option<f64> {
        Some(p.0)
    }
}

impl From<DurationValue> for Duration {
    fn from(d: DurationValue) -> Duration {
        d.0
    }
}

impl From<DurationValue> for Option<Duration> {
    fn from(d: DurationValue) -> Option<Duration> {
        Some(d.0)
    }
}

/// The settings table as the README shows it (`drover generate` writes it there).
pub fn markdown_table() -> String {
    let mut out = String::from("| play key / flag | meaning | default |\n| --- | --- | --- |\n");
    for s in table() {
        let key = match s.play_key {
            Some(k) => format!("`{k}` / `{}`", s.flag),
            None => format!("`{}`", s.flag),
        };
        out.push_str(&format!("| {key} | {} | {} |\n", s.help, s.default));
    }
    out
}

impl RunSettings {
    /// The connection backoff policy these settings describe.
    pub fn backoff_policy(&self) -> Backoff {
        Backoff {
            base: self.backoff,
            cap: self.backoff_cap,
            retries: self.retries,
        }
    }

    /// The breaker policy, or `None` when breakers are off.
    pub fn breaker_policy(&self) -> Option<BreakerPolicy> {
        (self.breaker_threshold > 0).then_some(BreakerPolicy {
            threshold: self.breaker_threshold,
            cooldown: self.breaker_cooldown,
            probe_timeout: self.connect_timeout,
        })
    }

    /// Hosts in flight at once for `hosts` hosts: never above the batch size in `batched`.
    pub fn effective_concurrency(&self, hosts: usize) -> usize {
        let cap = match (self.strategy, self.batch_size) {
            (Strategy::Batched, n) if n > 0 => self.concurrency.min(n),
            _ => self.concurrency,
        };
        cap.clamp(1, hosts.max(1))
    }
}

/// A duration as users write it: `10s`, `500ms`, `2m`, `1h`, `1h30m`, or a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationValue(pub Duration);

impl std::str::FromStr for DurationValue {
    type Err = String;
    fn from_str(s: &str) -> Result<DurationValue, String> {
        parse_duration(s).map(DurationValue)
    }
}

impl fmt::Display for DurationValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bad = || format!("`{text}` is not a duration (expected e.g. 500ms, 10s, 2m, 1h)");
    if let Ok(secs) = text.parse::<f64>() {
        return if secs.is_finite() && (0.0..1e9).contains(&secs) {
            Ok(Duration::from_secs_f64(secs))
        } else {
            Err(bad())
        };
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .ok_or_else(bad)?;
        let number: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        let secs = number * scale;
        if !(0.0..1e9).contains(&secs) {
            return Err(bad());
        }
        total += Duration::from_secs_f64(secs);
    }
    Ok(total)
}

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged, expecting = "a duration such as 500ms, 10s, 2m or 1h")]
        enum Raw {
            Number(f64),
            Text(String),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Number(n) => n.to_string(),
            Raw::Text(t) => t,
        };
        parse_duration(&text)
            .map(DurationValue)
            .map_err(|e| serde::de::Error::custom(crate::diagnostic::with_needle(e, &text)))
    }
}

mod millis {
    use std::time::Duration;
    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        <u64 as serde::Deserialize>::deserialize(d).map(Duration::from_millis)
    }
}

mod opt_millis {
    use std::time::Duration;
    pub fn serialize<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&(d.as_millis() as u64)),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        <Option<u64> as serde::Deserialize>::deserialize(d).map(|ms| ms.map(Duration::from_millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-1").is_err());
    }

    #[test]
    fn batched_concurrency_never_exceeds_batch_size() {
        let s = RunSettings {
            batch_size: 4,
            concurrency: 10,
            ..RunSettings::default()
        };
        assert_eq!(s.effective_concurrency(100), 4);
        let s = RunSettings {
            strategy: Strategy::Rolling,
            ..s
        };
        assert_eq!(s.effective_concurrency(100), 10);
        assert_eq!(s.effective_concurrency(3), 3);
    }
}
