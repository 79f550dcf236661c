//! How one setting is read: the environment variable if set, else the file's key, else the
//! default; and how its text is parsed.

use super::ConfigError;

/// A yes/no environment variable: 1/true/yes or 0/false/no.
pub(super) fn flag(name: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        other => Err(ConfigError::Invalid {
            name,
            message: format!("{other:?} is not true or false"),
        }),
    }
}

/// A setting: the environment variable if set, else the file's key, else the default.
pub(super) fn setting<T>(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    from_file: Option<T>,
    default: T,
    parse: fn(&'static str, &str) -> Result<T, ConfigError>,
) -> Result<T, ConfigError> {
    match var(name) {
        Some(v) => parse(name, &v),
        None => Ok(from_file.unwrap_or(default)),
    }
}

pub(super) fn number<T: std::str::FromStr>(
    name: &'static str,
    value: &str,
) -> Result<T, ConfigError> {
    value.parse().map_err(|_| ConfigError::Invalid {
        name,
        message: format!("{value:?} is not a number"),
    })
}

/// A number setting that must be at least 1: zero would stop every request (a timeout) or
/// every connection (a bound).
pub(super) fn positive<T: std::str::FromStr + PartialOrd + From<u8>>(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    from_file: Option<T>,
    default: T,
) -> Result<T, ConfigError> {
    let value = setting(var, name, from_file, default, number)?;
    if value < T::from(1) {
        return Err(ConfigError::Invalid {
            name,
            message: "must be at least 1".into(),
        });
    }
    Ok(value)
}
