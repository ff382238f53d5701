#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! Hostile input for the importer's parsers: arbitrary bytes and arbitrary almost-valid
//! records through JSONL lines, CSV cells with a column mapping, human-formatted numbers and
//! protobuf-encoded records. Nothing may panic; what is refused names a field. A short run
//! (proptest's default 256 cases per property) runs with the tests; `PROPTEST_CASES=N` runs
//! longer (docs/reliability.md).

use chrono::Utc;
use proptest::prelude::*;
use resonance_ingest::CsvMapping;
use resonance_ingest::jsonl::parse_line;
use resonance_ingest::record;
use resonance_ingest::tabular::{decode_cell, parse_number};
use resonance_proto::ingest::Record;
use resonance_proto::prost::Message as _;

/// A JSON value of any type, shallow, for fields of an otherwise well-formed record.
fn any_json() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<f64>().prop_map(|n| serde_json::json!(n)),
        ".{0,40}".prop_map(serde_json::Value::String),
        prop::collection::vec(".{0,8}", 0..4).prop_map(|v| serde_json::json!(v)),
    ]
}

const TYPES: [&str; 7] = [
    "profile",
    "snapshot",
    "post",
    "follower_sample",
    "audience",
    "conversion",
    "nonsense",
];
const FIELDS: [&str; 16] = [
    "platform",
    "handle",
    "external_id",
    "followers",
    "likes",
    "comments",
    "views",
    "posted_time",
    "observed_time",
    "caption",
    "member_ids",
    "followers",
    "order_id",
    "revenue",
    "currency",
    "promo_code",
];

proptest! {
    #[test]
    fn arbitrary_lines_are_parsed_or_refused_without_panicking(line in ".{0,300}") {
        if let Ok(wire) = parse_line(&line) {
            let _ = record::parse(&wire, Utc::now());
        }
    }

    #[test]
    fn arbitrary_bytes_as_a_line_are_refused_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(wire) = parse_line(&text) {
            let _ = record::parse(&wire, Utc::now());
        }
    }

    #[test]
    fn records_with_fields_of_any_type_are_validated_or_refused_by_field(
        kind in 0..TYPES.len(),
        fields in prop::collection::vec((0..FIELDS.len(), any_json()), 0..10),
    ) {
        let mut object = serde_json::Map::new();
        object.insert("type".into(), serde_json::json!(TYPES[kind]));
        for (field, value) in fields {
            object.insert(FIELDS[field].into(), value);
        }
        let line = serde_json::Value::Object(object).to_string();
        match parse_line(&line) {
            Ok(wire) => {
                if let Err(error) = record::parse(&wire, Utc::now()) {
                    prop_assert!(!error.message.is_empty());
                }
            }
            Err(error) => prop_assert!(!error.message.is_empty(), "{line}"),
        }
    }

    #[test]
    fn arbitrary_protobuf_bytes_are_decoded_and_validated_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(wire) = Record::decode(bytes.as_slice()) {
            let _ = record::parse(&wire, Utc::now());
        }
    }

    #[test]
    fn human_numbers_and_cells_in_any_encoding_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..60)) {
        let cell = decode_cell(&bytes);
        let _ = parse_number(&cell);
    }

    #[test]
    fn csv_rows_of_arbitrary_cells_are_mapped_or_refused_by_field(
        cells in prop::collection::vec(prop_oneof![
            ".{0,20}",
            "[0-9]{1,4}(\\.[0-9]{1,2})?[kKmMbB%]?",
            Just("NaN".to_owned()),
            Just(String::new()),
        ], 0..8),
    ) {
        let mapping = CsvMapping::from_toml(
            r#"
record = "profile"
[values]
platform = "instagram"
[columns]
handle = "name"
followers = "followers"
following = "following"
country = "country"
avg_likes = "likes"
observed_time = "date"
"#,
        )
        .expect("mapping");
        let headers: Vec<String> = ["name", "followers", "following", "country", "likes", "date"]
            .iter()
            .map(|h| (*h).to_owned())
            .collect();
        let resolved = mapping.resolve(&headers).expect("resolve");
        match resolved.records(cells, Utc::now()) {
            Ok(records) => {
                for wire in &records {
                    let _ = record::parse(wire, Utc::now());
                }
            }
            Err(error) => prop_assert!(!error.message.is_empty()),
        }
    }
}

#[test]
fn deeply_nested_and_huge_lines_are_refused_with_a_reason() {
    for line in [
        format!(
            "{{\"type\":\"post\",\"caption\":{}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
        format!("{}{}", "{\"a\":".repeat(50_000), "}".repeat(50_000)),
    ] {
        let error = parse_line(&line).expect_err("refused");
        assert!(error.message.contains("invalid JSON"), "{}", error.message);
    }
}
