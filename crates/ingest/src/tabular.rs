//! CSV exports from other tools, read through a column mapping.
//!
//! A mapping says what a row is (`record = "profile"` or `"post"`), which column holds each
//! field, and constant values for fields the export leaves out (the platform, the date of a
//! monthly export). It is a TOML file, and each entry may also be given on the command line:
//!
//! ```toml
//! record = "profile"
//!
//! [values]
//! platform = "instagram"
//! observed_time = "2022-12-01"
//!
//! [columns]
//! handle = "name"
//! followers = "followers#2"         # the second column headed "followers"
//! country = "@8"                    # the eighth column, whatever its header
//! categories = ["Category_1", "Category_2"]
//! avg_engagements = "Eng. (Avg.)#2"
//! ```
//!
//! Headers match without regard to case, surrounding blanks or line breaks inside them. Cells
//! may be human-formatted: `3.3k`, `475.8M`, `29.0b`, `1,234`, `1.39%`; `NaN`, `N/A`, `-` and
//! empty cells are unknown. Cells that are not UTF-8 are read as Windows-1252.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use resonance_core::{ContentFormat, Platform, ValidationError};
use resonance_proto::common::CreatorRef;
use resonance_proto::ingest::{PostRecord, ProfileRecord, Record, SnapshotRecord, record::Kind};
use resonance_proto::{convert, scoring as pb};
use serde::Deserialize;

/// What one row of the file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RowKind {
    /// A creator profile observation; reported averages become a metric snapshot.
    Profile,
    /// One post with its counts.
    Post,
}

impl RowKind {
    fn fields(self) -> &'static [&'static str] {
        match self {
            RowKind::Profile => PROFILE_FIELDS,
            RowKind::Post => POST_FIELDS,
        }
    }
}

const PROFILE_FIELDS: &[&str] = &[
    "platform",
    "handle",
    "external_id",
    "display_name",
    "bio",
    "followers",
    "following",
    "media_count",
    "verified",
    "is_private",
    "has_profile_picture",
    "country",
    "language",
    "categories",
    "observed_time",
    "avg_likes",
    "avg_comments",
    "avg_views",
    "avg_engagements",
    "authentic_engagements",
    "engagement_rate",
];

const POST_FIELDS: &[&str] = &[
    "platform",
    "handle",
    "external_id",
    "posted_time",
    "format",
    "likes",
    "comments",
    "shares",
    "saves",
    "views",
    "caption",
    "hashtags",
    "mentions",
    "paid_partnership",
    "url",
    "observed_time",
];

/// A column named in a mapping: one column, or several whose values are joined (categories).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Columns {
    One(String),
    Many(Vec<String>),
}

impl Columns {
    fn specs(&self) -> Vec<&str> {
        match self {
            Columns::One(one) => vec![one.as_str()],
            Columns::Many(many) => many.iter().map(String::as_str).collect(),
        }
    }
}

/// How the rows of a CSV file become records.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvMapping {
    pub record: RowKind,
    /// Field name to column(s).
    #[serde(default)]
    pub columns: BTreeMap<String, Columns>,
    /// Field name to a constant, written as a cell would be.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mapping: {0}")]
pub struct MappingError(pub String);

impl CsvMapping {
    /// Parses a mapping file's text.
    pub fn from_toml(text: &str) -> Result<Self, MappingError> {
        let mapping: Self = toml::from_str(text).map_err(|e| MappingError(e.to_string()))?;
        mapping.check()?;
        Ok(mapping)
    }

    /// A mapping given entirely by flags: `field=column` and `field:=value` pairs.
    pub fn new(record: RowKind) -> Self {
        Self {
            record,
            columns: BTreeMap::new(),
            values: BTreeMap::new(),
        }
    }

    /// Applies `FIELD=COLUMN` (a column; several columns separated by `|`) or `FIELD:=VALUE`
    /// (a constant), replacing what the mapping said for that field.
    pub fn set(&mut self, assignment: &str) -> Result<(), MappingError> {
        let (field, value, constant) = match assignment.split_once(":=") {
            Some((field, value)) => (field, value, true),
            None => match assignment.split_once('=') {
                Some((field, value)) => (field, value, false),
                None => {
                    return Err(MappingError(format!(
                        "{assignment:?}: expected FIELD=COLUMN or FIELD:=VALUE"
                    )));
                }
            },
        };
        let field = field.trim().to_owned();
        if !self.record.fields().contains(&field.as_str()) {
            return Err(MappingError(format!(
                "unknown field {field:?} for {:?} rows (known: {})",
                self.record,
                self.record.fields().join(", ")
            )));
        }
        self.columns.remove(&field);
        self.values.remove(&field);
        if constant {
            self.values.insert(field, value.to_owned());
        } else if value.contains('|') {
            let many = value.split('|').map(str::to_owned).collect();
            self.columns.insert(field, Columns::Many(many));
        } else {
            self.columns.insert(field, Columns::One(value.to_owned()));
        }
        Ok(())
    }

    /// Every field is known for the record kind and given once; the key fields are given.
    pub fn check(&self) -> Result<(), MappingError> {
        let known = self.record.fields();
        for field in self.columns.keys().chain(self.values.keys()) {
            if !known.contains(&field.as_str()) {
                return Err(MappingError(format!(
                    "unknown field {field:?} for {:?} rows (known: {})",
                    self.record,
                    known.join(", ")
                )));
            }
            if self.columns.contains_key(field) && self.values.contains_key(field) {
                return Err(MappingError(format!(
                    "{field} has both a column and a value"
                )));
            }
        }
        let mut required = vec!["platform", "handle"];
        required.push(match self.record {
            RowKind::Profile => "followers",
            RowKind::Post => "external_id",
        });
        for field in required {
            if !self.columns.contains_key(field) && !self.values.contains_key(field) {
                return Err(MappingError(format!("{field} needs a column or a value")));
            }
        }
        Ok(())
    }

    /// Finds the mapped columns in a header row.
    pub fn resolve(&self, headers: &[String]) -> Result<ResolvedMapping, MappingError> {
        self.check()?;
        let normalized: Vec<String> = headers.iter().map(|h| normalize_header(h)).collect();
        let mut columns = BTreeMap::new();
        for (field, spec) in &self.columns {
            let mut indexes = Vec::new();
            for spec in spec.specs() {
                let index = find_column(&normalized, spec).ok_or_else(|| {
                    MappingError(format!(
                        "{field}: no column {spec:?} in the header (columns: {})",
                        headers
                            .iter()
                            .map(|h| format!("{:?}", normalize_header(h)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
                indexes.push((index, spec.to_owned()));
            }
            columns.insert(field.clone(), indexes);
        }
        Ok(ResolvedMapping {
            record: self.record,
            columns,
            values: self.values.clone(),
        })
    }
}

/// Lowercase, with runs of blanks and line breaks as one space, trimmed.
fn normalize_header(header: &str) -> String {
    header
        .trim_start_matches('\u{feff}')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// "Header", "Header#2" (second column so headed) or "@3" (third column), 0-based result.
fn find_column(normalized: &[String], spec: &str) -> Option<usize> {
    if let Some(position) = spec.strip_prefix('@') {
        let position: usize = position.trim().parse().ok()?;
        return (1..=normalized.len())
            .contains(&position)
            .then(|| position - 1);
    }
    let (name, occurrence) = match spec.rsplit_once('#') {
        Some((name, n)) if n.trim().parse::<usize>().is_ok_and(|n| n >= 1) => {
            (name, n.trim().parse::<usize>().ok()?)
        }
        _ => (spec, 1),
    };
    let name = normalize_header(name);
    normalized
        .iter()
        .enumerate()
        .filter(|(_, header)| **header == name)
        .nth(occurrence - 1)
        .map(|(index, _)| index)
}

/// A mapping bound to a file's header.
#[derive(Debug, Clone)]
pub struct ResolvedMapping {
    record: RowKind,
    /// Field to (column index, spec as written).
    columns: BTreeMap<String, Vec<(usize, String)>>,
    values: BTreeMap<String, String>,
}

/// One row's cells, decoded.
struct Row<'a> {
    mapping: &'a ResolvedMapping,
    cells: Vec<String>,
}

impl Row<'_> {
    /// The text of a field (constant or cell), with its column for messages; `None` when the
    /// field is not mapped or the cell is empty.
    fn text(&self, field: &str) -> Option<(String, String)> {
        let (text, origin) = if let Some(value) = self.mapping.values.get(field) {
            (non_blank(value)?, "value".to_owned())
        } else {
            let columns = self.mapping.columns.get(field)?;
            let (index, spec) = columns.first()?;
            (
                non_blank(self.cells.get(*index)?)?,
                format!("column {spec:?}"),
            )
        };
        // Exports write "N/A" or "-" for unknown; free text keeps whatever it says.
        let free_text = matches!(field, "display_name" | "bio" | "caption");
        if !free_text && is_unknown(&text) {
            return None;
        }
        Some((text, origin))
    }

    /// All values of a multi-column field (categories, hashtags).
    fn list(&self, field: &str) -> Vec<String> {
        if let Some(value) = self.mapping.values.get(field) {
            return split_list(value);
        }
        let Some(columns) = self.mapping.columns.get(field) else {
            return Vec::new();
        };
        columns
            .iter()
            .filter_map(|(index, _)| self.cells.get(*index))
            .flat_map(|cell| split_list(cell))
            .collect()
    }

    fn string(&self, field: &str) -> String {
        self.text(field).map(|(text, _)| text).unwrap_or_default()
    }

    fn number(&self, field: &str) -> Result<Option<Number>, ValidationError> {
        match self.text(field) {
            None => Ok(None),
            Some((text, origin)) => parse_number(&text)
                .map_err(|message| ValidationError::new(field, format!("{origin}: {message}"))),
        }
    }

    /// A count: a number of things, never a percentage; rounded to a whole number.
    fn count(&self, field: &str) -> Result<Option<i64>, ValidationError> {
        match self.number(field)? {
            None => Ok(None),
            Some(Number { percent: true, .. }) => Err(ValidationError::new(
                field,
                format!(
                    "{}: is a percentage; a count is expected",
                    self.origin(field)
                ),
            )),
            // Negative values pass through, to be refused with the record's field path.
            Some(Number { value, .. }) => Ok(Some(value.round() as i64)),
        }
    }

    fn origin(&self, field: &str) -> String {
        self.text(field)
            .map(|(_, origin)| origin)
            .unwrap_or_default()
    }

    fn flag(&self, field: &str) -> Result<bool, ValidationError> {
        match self.text(field) {
            None => Ok(false),
            Some((text, origin)) => match text.to_lowercase().as_str() {
                "true" | "yes" | "y" | "1" | "t" => Ok(true),
                "false" | "no" | "n" | "0" | "f" => Ok(false),
                _ => Err(ValidationError::new(
                    field,
                    format!("{origin}: {text:?} is not yes/no or true/false"),
                )),
            },
        }
    }

    fn time(
        &self,
        field: &str,
    ) -> Result<Option<resonance_proto::prost_types::Timestamp>, ValidationError> {
        match self.text(field) {
            None => Ok(None),
            Some((text, origin)) => parse_time(&text)
                .map(|at| Some(convert::timestamp(at)))
                .ok_or_else(|| {
                    ValidationError::new(
                        field,
                        format!(
                            "{origin}: {text:?} is not a date (2022-12-01) or an RFC 3339 time"
                        ),
                    )
                }),
        }
    }

    fn platform(&self) -> Result<i32, ValidationError> {
        let (text, origin) = self
            .text("platform")
            .ok_or_else(|| ValidationError::new("platform", "is required"))?;
        let platform: Platform = text.parse().map_err(|e: ValidationError| {
            ValidationError::new("platform", format!("{origin}: {}", e.message))
        })?;
        Ok(convert::platform_to_proto(platform) as i32)
    }

    fn account(&self) -> Result<CreatorRef, ValidationError> {
        Ok(CreatorRef {
            platform: self.platform()?,
            handle: self.string("handle"),
        })
    }
}

/// The ways exports write "unknown".
fn is_unknown(text: &str) -> bool {
    matches!(
        text.to_lowercase().as_str(),
        "nan" | "n/a" | "na" | "-" | "--" | "—" | "none" | "null"
    )
}

fn non_blank(text: &str) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

fn split_list(text: &str) -> Vec<String> {
    text.split([',', ';', '|'])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A cell read as a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number {
    pub value: f64,
    /// Written with a `%` sign; `value` is then the percentage (1.39 for "1.39%").
    pub percent: bool,
}

/// Reads a human-formatted number: `3.3k`, `475.8M`, `29.0b`, `1,234`, `1.39%`, `477900000.00`.
/// `NaN`, `N/A`, `-`, `none`, `null` and blanks are unknown (`None`).
pub fn parse_number(text: &str) -> Result<Option<Number>, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() || is_unknown(trimmed) {
        return Ok(None);
    }
    let lowered = trimmed.to_lowercase();
    let mut digits: String = lowered
        .chars()
        .filter(|c| !matches!(c, ',' | '_' | ' ' | '\u{a0}' | '\u{202f}'))
        .collect();
    let percent = digits.ends_with('%');
    if percent {
        digits.pop();
    }
    let multiplier = match digits.chars().last() {
        Some('k') => 1e3,
        Some('m') => 1e6,
        Some('b') => 1e9,
        _ => 1.0,
    };
    if multiplier != 1.0 {
        digits.pop();
    }
    let value: f64 = digits
        .parse()
        .map_err(|_| format!("{trimmed:?} is not a number"))?;
    if !value.is_finite() || (percent && multiplier != 1.0) {
        return Err(format!("{trimmed:?} is not a number"));
    }
    Ok(Some(Number {
        value: value * multiplier,
        percent,
    }))
}

/// RFC 3339, or a bare date (midnight UTC).
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|at| at.and_utc())
}

/// Decodes a cell: UTF-8, or else Windows-1252 (older spreadsheet exports).
pub fn decode_cell(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

impl ResolvedMapping {
    /// The records of one row, in the wire form (validated afterwards like any record).
    /// `default_time` stands in for a missing `observed_time` so that a profile and its
    /// snapshot share one time.
    pub fn records(
        &self,
        cells: Vec<String>,
        default_time: DateTime<Utc>,
    ) -> Result<Vec<Record>, ValidationError> {
        let row = Row {
            mapping: self,
            cells,
        };
        match self.record {
            RowKind::Profile => profile_records(&row, default_time),
            RowKind::Post => Ok(vec![post_record(&row)?]),
        }
    }
}

fn profile_records(
    row: &Row<'_>,
    default_time: DateTime<Utc>,
) -> Result<Vec<Record>, ValidationError> {
    let observed_time = Some(
        row.time("observed_time")?
            .unwrap_or_else(|| convert::timestamp(default_time)),
    );
    let followers = row.count("followers")?.ok_or_else(|| {
        ValidationError::new(
            "followers",
            format!("{}is empty", origin_prefix(row, "followers")),
        )
    })?;
    let following = row.count("following")?.unwrap_or_default();
    let media_count = row.count("media_count")?.unwrap_or_default();
    let profile = pb::Profile {
        platform: row.platform()?,
        handle: row.string("handle"),
        external_id: row.string("external_id"),
        display_name: row.string("display_name"),
        bio: row.string("bio"),
        followers,
        following,
        media_count,
        verified: row.flag("verified")?,
        is_private: row.flag("is_private")?,
        has_profile_picture: row.flag("has_profile_picture")?,
        country: row.string("country"),
        language: row.string("language"),
        categories: row.list("categories"),
        observed_time,
    };
    let mut records = vec![Record {
        kind: Some(Kind::Profile(ProfileRecord {
            profile: Some(profile),
        })),
    }];

    let mut avg_engagements = row.count("avg_engagements")?;
    if avg_engagements.is_none() {
        // An engagement rate is a percentage of followers, with or without the sign.
        if let Some(rate) = row.number("engagement_rate")? {
            if rate.value < 0.0 {
                return Err(ValidationError::new(
                    "engagement_rate",
                    format!("must not be negative (got {})", rate.value),
                ));
            }
            avg_engagements = Some((rate.value / 100.0 * followers as f64).round() as i64);
        }
    }
    let snapshot = pb::MetricSnapshot {
        observed_time,
        followers,
        following,
        media_count,
        avg_likes: row.count("avg_likes")?,
        avg_comments: row.count("avg_comments")?,
        avg_views: row.count("avg_views")?,
        avg_engagements,
        authentic_engagements: row.count("authentic_engagements")?,
    };
    let reports_averages = snapshot.avg_likes.is_some()
        || snapshot.avg_comments.is_some()
        || snapshot.avg_views.is_some()
        || snapshot.avg_engagements.is_some()
        || snapshot.authentic_engagements.is_some();
    if reports_averages {
        records.push(Record {
            kind: Some(Kind::Snapshot(SnapshotRecord {
                account: Some(row.account()?),
                snapshot: Some(snapshot),
            })),
        });
    }
    Ok(records)
}

fn origin_prefix(row: &Row<'_>, field: &str) -> String {
    row.mapping
        .columns
        .get(field)
        .and_then(|columns| columns.first())
        .map(|(_, spec)| format!("column {spec:?} "))
        .unwrap_or_default()
}

fn post_record(row: &Row<'_>) -> Result<Record, ValidationError> {
    let format = match row.text("format") {
        None => 0,
        Some((text, origin)) => {
            let format: ContentFormat = text.parse().map_err(|e: ValidationError| {
                ValidationError::new("format", format!("{origin}: {}", e.message))
            })?;
            convert::content_format_to_proto(format) as i32
        }
    };
    let hashtags = row.list("hashtags");
    let mentions = row.list("mentions");
    Ok(Record {
        kind: Some(Kind::Post(PostRecord {
            account: Some(row.account()?),
            post: Some(pb::Post {
                external_id: row.string("external_id"),
                posted_time: row.time("posted_time")?,
                format,
                likes: row.count("likes")?,
                comments: row.count("comments")?,
                shares: row.count("shares")?,
                saves: row.count("saves")?,
                views: row.count("views")?,
                caption: row.string("caption"),
                hashtags,
                mentions,
                paid_partnership: row.flag("paid_partnership")?,
                url: row.string("url"),
            }),
            observed_time: row.time("observed_time")?,
        })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_numbers_parse() {
        let value = |text: &str| parse_number(text).expect(text).map(|n| n.value);
        assert_eq!(value("3.3k"), Some(3300.0));
        assert_eq!(value("475.8M"), Some(475_800_000.0));
        assert_eq!(value("29.0b"), Some(29_000_000_000.0));
        assert_eq!(value("1,234"), Some(1234.0));
        assert_eq!(value("477900000.00"), Some(477_900_000.0));
        assert_eq!(value("NaN"), None);
        assert_eq!(value(" "), None);
        assert_eq!(value("N/A"), None);
        let rate = parse_number("1.39%").expect("percent").expect("some");
        assert!(rate.percent && (rate.value - 1.39).abs() < 1e-9);
        assert!(parse_number("lots").is_err());
        assert!(parse_number("inf").is_err());
        assert!(parse_number("3k%").is_err());
    }

    #[test]
    fn headers_match_loosely_and_by_occurrence_or_position() {
        let headers: Vec<String> = ["S.no", "Followers", "Followers", "Authentic engagement\n"]
            .map(str::to_owned)
            .to_vec();
        let normalized: Vec<String> = headers.iter().map(|h| normalize_header(h)).collect();
        assert_eq!(find_column(&normalized, "followers"), Some(1));
        assert_eq!(find_column(&normalized, "FOLLOWERS#2"), Some(2));
        assert_eq!(find_column(&normalized, "followers#3"), None);
        assert_eq!(find_column(&normalized, "authentic engagement"), Some(3));
        assert_eq!(find_column(&normalized, "@1"), Some(0));
        assert_eq!(find_column(&normalized, "@9"), None);
    }

    #[test]
    fn a_profile_row_becomes_a_profile_and_a_snapshot() {
        let mapping = CsvMapping::from_toml(
            r#"
record = "profile"
[values]
platform = "instagram"
observed_time = "2022-12-01"
[columns]
handle = "name"
followers = "followers#2"
categories = ["Category_1", "Category_2"]
authentic_engagements = "Eng. (Auth.)#2"
engagement_rate = "ER"
"#,
        )
        .expect("mapping");
        let headers = [
            "name",
            "followers",
            "followers",
            "Category_1",
            "Category_2",
            "Eng. (Auth.)",
            "Eng. (Auth.)",
            "ER",
        ]
        .map(str::to_owned)
        .to_vec();
        let resolved = mapping.resolve(&headers).expect("resolves");
        let cells = [
            "leomessi",
            "409.8M",
            "409800000",
            "Sports",
            "Family",
            "17.8M",
            "17800000",
            "1.5%",
        ]
        .map(str::to_owned)
        .to_vec();
        let records = resolved.records(cells, Utc::now()).expect("records");
        assert_eq!(records.len(), 2);
        let Some(Kind::Profile(profile)) = &records[0].kind else {
            panic!("profile first")
        };
        let profile = profile.profile.as_ref().expect("profile");
        assert_eq!(profile.followers, 409_800_000);
        assert_eq!(profile.categories, ["Sports", "Family"]);
        let Some(Kind::Snapshot(snapshot)) = &records[1].kind else {
            panic!("snapshot second")
        };
        let snapshot = snapshot.snapshot.as_ref().expect("snapshot");
        assert_eq!(snapshot.authentic_engagements, Some(17_800_000));
        assert_eq!(snapshot.avg_engagements, Some(6_147_000));
        assert_eq!(snapshot.observed_time, profile.observed_time);
    }

    #[test]
    fn mapping_mistakes_name_the_field_or_column() {
        let error = CsvMapping::from_toml("record = \"profile\"\n[columns]\nhandle = \"a\"\nfollowers = \"b\"\nfolowers = \"c\"\n[values]\nplatform = \"x\"")
            .expect_err("typo");
        assert!(error.to_string().contains("folowers"), "{error}");
        let error = CsvMapping::from_toml(
            "record = \"profile\"\n[columns]\nhandle = \"a\"\n[values]\nplatform = \"x\"",
        )
        .expect_err("no followers");
        assert!(error.to_string().contains("followers needs"), "{error}");
        let mapping = CsvMapping::from_toml(
            "record = \"profile\"\n[columns]\nhandle = \"a\"\nfollowers = \"subs\"\n[values]\nplatform = \"instagram\"",
        )
        .expect("mapping");
        let error = mapping
            .resolve(&["a".to_owned(), "followers".to_owned()])
            .expect_err("missing column");
        assert!(error.to_string().contains("\"subs\""), "{error}");
    }

    #[test]
    fn bad_cells_name_the_field_and_column() {
        let mut mapping = CsvMapping::new(RowKind::Profile);
        for assignment in ["handle=h", "followers=f", "platform:=instagram"] {
            mapping.set(assignment).expect("assignment");
        }
        let resolved = mapping
            .resolve(&["h".to_owned(), "f".to_owned()])
            .expect("resolves");
        let error = resolved
            .records(vec!["anna".to_owned(), "lots".to_owned()], Utc::now())
            .expect_err("not a number");
        assert_eq!(error.field, "followers");
        assert!(error.message.contains("column \"f\""), "{}", error.message);
        let error = resolved
            .records(vec!["anna".to_owned(), "2%".to_owned()], Utc::now())
            .expect_err("percent");
        assert!(error.message.contains("percentage"), "{}", error.message);
    }

    #[test]
    fn windows_1252_cells_are_decoded() {
        assert_eq!(decode_cell(b"caf\xe9"), "café");
        assert_eq!(decode_cell("café".as_bytes()), "café");
    }
}
