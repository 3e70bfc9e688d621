//! The served OpenAPI document is a valid OpenAPI 3.1 document: every `$ref` resolves, the
//! document passes the OpenAPI Initiative's published JSON Schema for 3.1
//! (`tests/fixtures/openapi-3.1.schema.json`, id `https://spec.openapis.org/oas/3.1/schema/2022-10-07`),
//! and every schema in it is a valid JSON Schema 2020-12. Schemathesis fuzzes the same
//! document in CI; a dangling reference would make it skip the operations that use it.

use serde_json::Value;

fn document() -> Value {
    serde_json::from_str(&qwen_http::openapi::json()).expect("the document is JSON")
}

/// Every `"$ref"` string in `v`, with the JSON pointer of where it sits.
fn refs(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "$ref"
                    && let Value::String(target) = child
                {
                    out.push((at.to_owned(), target.clone()));
                }
                refs(child, &format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                refs(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_reference_resolves() {
    let doc = document();
    let mut found = Vec::new();
    refs(&doc, "", &mut found);
    assert!(found.len() > 20, "the document uses references: {found:?}");
    let dangling: Vec<_> = found
        .iter()
        .filter(|(_, target)| {
            target
                .strip_prefix('#')
                .is_none_or(|pointer| doc.pointer(pointer).is_none())
        })
        .collect();
    assert!(dangling.is_empty(), "dangling references: {dangling:?}");
}

#[test]
fn the_document_passes_the_openapi_3_1_schema() {
    let meta: Value = serde_json::from_str(include_str!("fixtures/openapi-3.1.schema.json"))
        .expect("the OpenAPI 3.1 schema is JSON");
    let validator = jsonschema::draft202012::new(&meta).expect("the OpenAPI 3.1 schema compiles");
    let doc = document();
    assert_eq!(
        doc["openapi"].as_str().map(|v| v.starts_with("3.1")),
        Some(true)
    );
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not a valid OpenAPI 3.1 document:\n{}",
        errors.join("\n")
    );
}

/// Every schema object: the components' schemas and the inline ones of parameters, bodies
/// and responses.
fn schemas(doc: &Value) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = doc["components"]["schemas"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (format!("components/{k}"), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    inline_schemas(&doc["paths"], "paths", &mut out);
    out
}

fn inline_schemas(v: &Value, at: &str, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "schema" {
                    out.push((format!("{at}/{k}"), child.clone()));
                } else {
                    inline_schemas(child, &format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                inline_schemas(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_schema_is_a_valid_json_schema() {
    let doc = document();
    let all = schemas(&doc);
    assert!(all.len() > 30, "{}", all.len());
    let bad: Vec<String> = all
        .iter()
        .filter_map(|(at, s)| {
            jsonschema::meta::validate(s)
                .err()
                .map(|e| format!("{at}: {e}"))
        })
        .collect();
    assert!(bad.is_empty(), "invalid schemas:\n{}", bad.join("\n"));
}

#[test]
fn the_schema_states_the_rules_the_server_enforces() {
    let doc = document();
    let pay = &doc["components"]["schemas"]["NewPayment"];
    for field in ["package", "amount", "telegram_id"] {
        let p = property(pay, field);
        assert_eq!(p["minimum"], 1, "NewPayment.{field}: {p}");
    }
    let run = &doc["paths"]["/api/reconciliations"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    let forms = run["oneOf"].as_array().expect("day, or from and to");
    assert_eq!(forms.len(), 2, "{run}");
    assert!(
        forms[0]["properties"]["day"]["pattern"].is_string(),
        "{run}"
    );
    let to = &forms[1]["properties"]["to"];
    assert!(
        to["description"]
            .as_str()
            .is_some_and(|d| d.contains("31 days")),
        "{to}"
    );
    assert_eq!(forms[1]["properties"]["from"]["minimum"], 0, "{run}");
}

#[test]
fn a_preset_states_its_optional_workflow_and_its_pattern() {
    let doc = document();
    let body = &doc["paths"]["/api/presets/{id}"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    let shown = &doc["components"]["schemas"]["Preset"];
    for schema in [body, shown] {
        let w = property(schema, "workflow");
        assert_eq!(w["pattern"], "^[a-z0-9_]{1,64}$", "{w}");
        assert_eq!(w["type"], serde_json::json!(["string", "null"]), "{w}");
        let required = schema["required"].as_array().cloned().unwrap_or_default();
        assert!(!required.contains(&"workflow".into()), "{schema}");
    }
}

/// Property `name` of an object schema, also when it sits in one of an `allOf`'s parts (a
/// flattened struct's schema).
fn property<'a>(schema: &'a Value, name: &str) -> &'a Value {
    let parts = schema["allOf"].as_array().into_iter().flatten();
    std::iter::once(schema)
        .chain(parts)
        .map(|s| &s["properties"][name])
        .find(|p| !p.is_null())
        .unwrap_or(&Value::Null)
}
