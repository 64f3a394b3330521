//! The JSON report of the samples conforms to its published schema
//! (`crates/report/schema/acrlens.report.v1.schema.json`), and every field it emits is documented
//! there: a field added to the model without a line in the schema fails here.

#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_exit, sample_report, stdout};
use sonic_rs::{JsonContainerTrait, JsonType, JsonValueTrait, Value};

/// Checks `value` against the subset of JSON Schema the report's schema uses: `$ref` into
/// `$defs`, `type`, `const`, `enum`, `required`, `properties` (every key of an object must be
/// declared), `items`, `minimum`. Returns the problems found, each with its JSON path.
fn check(root: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    if let Some(reference) = schema.get("$ref").and_then(|r| r.as_str()) {
        let name = reference.trim_start_matches("#/$defs/");
        let target = root.get("$defs").and_then(|d| d.get(name));
        match target {
            Some(target) => check(root, target, value, at, problems),
            None => problems.push(format!("{at}: unresolved {reference}")),
        }
        return;
    }
    let kind = match value.get_type() {
        JsonType::Null => "null",
        JsonType::Boolean => "boolean",
        JsonType::Number if value.is_i64() || value.is_u64() => "integer",
        JsonType::Number => "number",
        JsonType::String => "string",
        JsonType::Array => "array",
        JsonType::Object => "object",
    };
    if let Some(types) = schema.get("type") {
        let allowed: Vec<&str> = match types.as_array() {
            Some(list) => list.iter().filter_map(|t| t.as_str()).collect(),
            None => types.as_str().into_iter().collect(),
        };
        if !allowed.contains(&kind) {
            problems.push(format!("{at}: {kind}, expected {allowed:?}"));
            return;
        }
    }
    if let Some(constant) = schema.get("const")
        && constant != value
    {
        problems.push(format!("{at}: not the constant {constant}"));
    }
    if let Some(options) = schema.get("enum").and_then(|e| e.as_array())
        && !options.iter().any(|o| o == value)
    {
        problems.push(format!("{at}: {value} is not one of {options:?}"));
    }
    if let (Some(minimum), Some(n)) = (
        schema.get("minimum").and_then(|m| m.as_i64()),
        value.as_i64(),
    ) && n < minimum
    {
        problems.push(format!("{at}: {n} < {minimum}"));
    }
    if let Some(object) = value.as_object() {
        let declared = schema.get("properties");
        for name in schema
            .get("required")
            .and_then(|r| r.as_array())
            .into_iter()
            .flatten()
        {
            let name = name.as_str().unwrap_or_default();
            if object.get(&name).is_none() {
                problems.push(format!("{at}: missing required {name}"));
            }
        }
        for (key, field) in object.iter() {
            match declared.and_then(|d| d.get(key)) {
                Some(sub) => check(root, sub, field, &format!("{at}.{key}"), problems),
                None => problems.push(format!("{at}.{key}: not documented in the schema")),
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            check(root, items, item, &format!("{at}[{i}]"), problems);
        }
    }
}

fn schema() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../report/schema/acrlens.report.v1.schema.json"
    );
    sonic_rs::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_sample_report_conforms_to_the_published_schema() {
    let out = sample_report("json", &[]);
    assert_exit(&out, 1);
    let report: Value = sonic_rs::from_str(&stdout(&out)).unwrap();
    let schema = schema();
    let mut problems = Vec::new();
    check(&schema, &schema, &report, "$", &mut problems);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The report exercises every list the schema describes, so the check above reached them.
    for list in [
        "paths_by_registry",
        "paths_by_day",
        "paths_by_registry_day",
        "changes",
        "callers_by_path",
        "trusted_callers",
        "public_callers",
        "violations",
    ] {
        assert!(
            !report[list].as_array().unwrap().is_empty(),
            "{list} is empty in the sample report"
        );
    }
}

#[test]
fn the_schema_check_catches_an_undocumented_field_and_a_wrong_type() {
    let schema = schema();
    let bad: Value = sonic_rs::from_str(
        r#"{"schema":"acrlens.report/v1","period":{"from":null,"to":null,"extra":1},
            "inputs":{"events":"many","quarantined":0,"events_without_configuration":0,
            "events_without_caller":0,"service_tag_versions":[],"configurations":[],
            "unconfigured_periods":[]},
            "paths_by_registry":[{"registry":"r","access_path":"sideways","requests":1}],
            "paths_by_day":[],"callers_by_path":[],"trusted_callers":[],"public_callers":[]}"#,
    )
    .unwrap();
    let mut problems = Vec::new();
    check(&schema, &schema, &bad, "$", &mut problems);
    let text = problems.join("\n");
    assert!(text.contains("$.period.extra: not documented"), "{text}");
    assert!(text.contains("$.inputs.events: string"), "{text}");
    assert!(
        text.contains("$.paths_by_registry[0].access_path: \"sideways\""),
        "{text}"
    );
    assert!(text.contains("missing required violations"), "{text}");
}
