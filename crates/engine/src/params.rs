//! Named parameters of canned queries. A query file declares each in its header comment as
//! `-- param NAME: DEFAULT`; `--param NAME=VALUE` overrides. Values are bound to `$NAME`
//! placeholders, never spliced into the SQL text.

use std::collections::HashMap;

use datafusion::common::ScalarValue;

/// The `-- param NAME: DEFAULT` declarations of a query, in order.
pub fn declared_params(sql: &str) -> Vec<(String, String)> {
    sql.lines()
        .filter_map(|line| {
            line.trim()
                .strip_prefix("--")?
                .trim()
                .strip_prefix("param ")?
                .split_once(':')
        })
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .filter(|(name, _)| !name.is_empty())
        .collect()
}

/// Declared defaults overridden by given values, as DataFusion parameter values (text).
pub fn bind_params(sql: &str, given: &[(String, String)]) -> HashMap<String, ScalarValue> {
    declared_params(sql)
        .into_iter()
        .chain(given.iter().cloned())
        .map(|(name, value)| (name, ScalarValue::Utf8(Some(value))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_give_defaults_that_given_values_override() {
        let sql = "-- Which addresses pulled an image?\n-- param image: prod/api\n--param since_days:7\nSELECT 1";
        assert_eq!(
            declared_params(sql),
            [
                ("image".to_owned(), "prod/api".to_owned()),
                ("since_days".to_owned(), "7".to_owned())
            ]
        );
        let bound = bind_params(sql, &[("image".to_owned(), "app/web".to_owned())]);
        assert_eq!(
            bound["image"],
            ScalarValue::Utf8(Some("app/web".to_owned()))
        );
        assert_eq!(bound["since_days"], ScalarValue::Utf8(Some("7".to_owned())));
        assert!(declared_params("SELECT '-- param x: y'").is_empty());
    }
}
