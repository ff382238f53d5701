//! Campaigns: the lifecycle and workflow rules every change is checked against, and the report
//! of what a campaign returned (`report`).
//!
//! Statuses are closed sets with a stable lowercase name each, which is what the store keeps.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::account::{ContentFormat, Handle, Platform};
use crate::error::ValidationError;

pub mod report;

/// Declares a closed set of statuses with stable names, parsed back with `FromStr`.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;

            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                match raw {
                    $($text => Ok($name::$variant),)+
                    _ => Err(ValidationError::new(
                        "",
                        format!(
                            "unknown value {raw:?} (expected one of {})",
                            [$($text),+].join(", ")
                        ),
                    )),
                }
            }
        }
    };
}

named_enum!(
    /// What a campaign is for: it decides what the planner maximises.
    CampaignGoal {
        Awareness => "awareness",
        Engagement => "engagement",
        Conversions => "conversions",
    }
);

named_enum!(
    /// draft -> planned -> active -> completed; any status but completed may go to cancelled.
    CampaignStatus {
        Draft => "draft",
        Planned => "planned",
        Active => "active",
        Completed => "completed",
        Cancelled => "cancelled",
    }
);

named_enum!(
    /// Where a creator stands in a brand's pipeline. Any move is allowed: pipelines go back and
    /// forth (a declined creator may be contacted again).
    PipelineStatus {
        Prospect => "prospect",
        Contacted => "contacted",
        Negotiating => "negotiating",
        Contracted => "contracted",
        Declined => "declined",
        Archived => "archived",
    }
);

named_enum!(
    /// unpaid -> invoiced -> paid (invoicing may be skipped); never backwards.
    PaymentStatus {
        Unpaid => "unpaid",
        Invoiced => "invoiced",
        Paid => "paid",
    }
);

named_enum!(
    /// pending -> shipped -> delivered (shipping may go unrecorded); never backwards.
    ShipmentStatus {
        Pending => "pending",
        Shipped => "shipped",
        Delivered => "delivered",
    }
);

named_enum!(
    /// draft -> submitted -> (changes requested -> submitted)* -> approved -> published.
    ReviewStatus {
        Draft => "draft",
        Submitted => "submitted",
        ChangesRequested => "changes_requested",
        Approved => "approved",
        Published => "published",
    }
);

/// A move a workflow does not allow: FAILED_PRECONDITION on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} cannot move from {from} to {to} ({rule})")]
pub struct IllegalTransition {
    pub what: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub rule: &'static str,
}

/// A status with rules on which status may follow which.
pub trait Workflow: Copy + Eq {
    /// What moves, for messages: "a campaign".
    const WHAT: &'static str;
    /// The rule in words, for messages.
    const RULE: &'static str;

    /// Whether `next` may follow `self` (staying put is always allowed).
    fn allows(self, next: Self) -> bool;

    fn name(self) -> &'static str;

    /// `next` if the move is allowed.
    fn move_to(self, next: Self) -> Result<Self, IllegalTransition> {
        if self == next || self.allows(next) {
            Ok(next)
        } else {
            Err(IllegalTransition {
                what: Self::WHAT,
                from: self.name(),
                to: next.name(),
                rule: Self::RULE,
            })
        }
    }
}

impl Workflow for CampaignStatus {
    const WHAT: &'static str = "a campaign";
    const RULE: &'static str =
        "draft -> planned -> active -> completed, or cancelled before completion";

    fn allows(self, next: Self) -> bool {
        use CampaignStatus::*;
        matches!(
            (self, next),
            (Draft, Planned)
                | (Planned, Active)
                | (Active, Completed)
                | (Draft | Planned | Active, Cancelled)
        )
    }

    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl CampaignStatus {
    /// Completed and cancelled campaigns are closed: their terms and deliverables are frozen,
    /// except for paying what is owed.
    pub fn is_closed(self) -> bool {
        matches!(self, CampaignStatus::Completed | CampaignStatus::Cancelled)
    }
}

impl Workflow for PaymentStatus {
    const WHAT: &'static str = "a payment";
    const RULE: &'static str = "unpaid -> invoiced -> paid, never backwards";

    fn allows(self, next: Self) -> bool {
        next > self
    }

    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Workflow for ShipmentStatus {
    const WHAT: &'static str = "a shipment";
    const RULE: &'static str = "pending -> shipped -> delivered, never backwards";

    fn allows(self, next: Self) -> bool {
        next > self
    }

    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Workflow for ReviewStatus {
    const WHAT: &'static str = "sponsored content";
    const RULE: &'static str = "draft -> submitted -> approved -> published, with submitted -> changes_requested -> submitted";

    fn allows(self, next: Self) -> bool {
        use ReviewStatus::*;
        matches!(
            (self, next),
            (Draft, Submitted)
                | (Submitted, ChangesRequested | Approved)
                | (ChangesRequested, Submitted)
                | (Approved, Published)
        )
    }

    fn name(self) -> &'static str {
        self.as_str()
    }
}

/// A creator as a brand names one: platform and handle (the creator may not be stored yet).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreatorKey {
    pub platform: Platform,
    pub handle: Handle,
}

/// A half-open window `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    /// A window within the years 1970 to 9999 (so that date arithmetic on it cannot
    /// overflow), ending after it starts.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, ValidationError> {
        use chrono::Datelike;
        for (at, field) in [(start, "start_time"), (end, "end_time")] {
            if !(1970..=9999).contains(&at.year()) {
                return Err(ValidationError::new(
                    field,
                    "must lie within the years 1970 to 9999",
                ));
            }
        }
        if end <= start {
            return Err(ValidationError::new(
                "end_time",
                "must be later than start_time",
            ));
        }
        Ok(Self { start, end })
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at < self.end
    }
}

/// The formats sponsored content may take.
pub const SPONSORED_FORMATS: &[ContentFormat] = &[
    ContentFormat::Post,
    ContentFormat::Carousel,
    ContentFormat::Video,
    ContentFormat::Reel,
    ContentFormat::Story,
    ContentFormat::BlogPost,
];

/// The longest product name, note or other free text of a deliverable.
pub const MAX_TEXT: usize = 500;
/// The longest URL kept.
pub const MAX_URL: usize = 2_048;

/// What a deliverable is, with its own workflow state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliverableKind {
    /// The creator runs an account (the brand's, or the creator's run by the brand) for a window.
    Takeover { account: CreatorKey, window: Window },
    /// Product sent to the creator in the hope of a post.
    ProductSeeding {
        product: String,
        quantity: u32,
        shipment: ShipmentStatus,
    },
    /// Paid content the creator makes and publishes after review.
    SponsoredContent {
        format: ContentFormat,
        due: Option<DateTime<Utc>>,
        review: ReviewStatus,
        content_url: Option<String>,
    },
}

impl DeliverableKind {
    pub fn name(&self) -> &'static str {
        match self {
            DeliverableKind::Takeover { .. } => "takeover",
            DeliverableKind::ProductSeeding { .. } => "product_seeding",
            DeliverableKind::SponsoredContent { .. } => "sponsored_content",
        }
    }

    /// Checks the deliverable on its own; field paths start at the kind ("product_seeding.quantity").
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self {
            DeliverableKind::Takeover { .. } => Ok(()),
            DeliverableKind::ProductSeeding {
                product, quantity, ..
            } => {
                check_text(product, "product_seeding.product", true)?;
                if *quantity == 0 {
                    return Err(ValidationError::new(
                        "product_seeding.quantity",
                        "must be at least 1",
                    ));
                }
                Ok(())
            }
            DeliverableKind::SponsoredContent {
                format,
                review,
                content_url,
                ..
            } => {
                if !SPONSORED_FORMATS.contains(format) {
                    return Err(ValidationError::new(
                        "sponsored_content.format",
                        format!(
                            "{} is not a sponsored format (post, carousel, video, reel, story, blog_post)",
                            format.as_str()
                        ),
                    ));
                }
                if let Some(url) = content_url {
                    check_url(url).map_err(|e| e.within("sponsored_content.content_url"))?;
                }
                if *review == ReviewStatus::Published && content_url.is_none() {
                    return Err(ValidationError::new(
                        "sponsored_content.content_url",
                        "is required once the content is published",
                    ));
                }
                Ok(())
            }
        }
    }

    /// Checks that `self` may replace `previous`: the kind stays the same and workflow states
    /// only make allowed moves.
    pub fn check_update(&self, previous: &DeliverableKind) -> Result<(), UpdateError> {
        match (previous, self) {
            (DeliverableKind::Takeover { .. }, DeliverableKind::Takeover { .. }) => Ok(()),
            (
                DeliverableKind::ProductSeeding { shipment: from, .. },
                DeliverableKind::ProductSeeding { shipment: to, .. },
            ) => from.move_to(*to).map(drop).map_err(UpdateError::Illegal),
            (
                DeliverableKind::SponsoredContent { review: from, .. },
                DeliverableKind::SponsoredContent { review: to, .. },
            ) => from.move_to(*to).map(drop).map_err(UpdateError::Illegal),
            _ => Err(UpdateError::Invalid(ValidationError::new(
                "deliverable.kind",
                format!(
                    "a {} deliverable cannot become {}; delete it and create another",
                    previous.name(),
                    self.name()
                ),
            ))),
        }
    }
}

/// Why an update is refused: bad input, or a move the workflow does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    #[error(transparent)]
    Invalid(ValidationError),
    #[error(transparent)]
    Illegal(IllegalTransition),
}

/// Checks free text: at most [`MAX_TEXT`] characters, and not blank when `required`.
pub fn check_text(value: &str, field: &str, required: bool) -> Result<(), ValidationError> {
    if required && value.trim().is_empty() {
        return Err(ValidationError::new(field, "is required"));
    }
    if value.chars().count() > MAX_TEXT {
        return Err(ValidationError::new(
            field,
            format!("must be at most {MAX_TEXT} characters"),
        ));
    }
    Ok(())
}

/// Checks an absolute http(s) URL of at most [`MAX_URL`] bytes.
pub fn check_url(value: &str) -> Result<(), ValidationError> {
    let lowered = value.to_ascii_lowercase();
    let rest = lowered
        .strip_prefix("https://")
        .or_else(|| lowered.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !value.chars().any(char::is_whitespace) => {}
        _ => {
            return Err(ValidationError::new(
                "",
                "must be an absolute http:// or https:// URL",
            ));
        }
    }
    if value.len() > MAX_URL {
        return Err(ValidationError::new(
            "",
            format!("must be at most {MAX_URL} bytes"),
        ));
    }
    Ok(())
}

/// An amount of money in millionths of a unit of `currency`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    /// ISO 4217 code, upper case.
    pub currency: String,
    pub micros: i64,
}

impl Money {
    /// Checks the currency code (three letters, kept upper case).
    pub fn new(currency: &str, micros: i64) -> Result<Self, ValidationError> {
        let currency = currency.trim();
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(ValidationError::new(
                "currency_code",
                format!("{currency:?} is not an ISO 4217 code such as \"USD\""),
            ));
        }
        Ok(Self {
            currency: currency.to_ascii_uppercase(),
            micros,
        })
    }

    pub fn amount(&self) -> f64 {
        self.micros as f64 / 1e6
    }
}

/// Normalizes branded hashtags, mentions or promo codes: trimmed, without the marker, lowercase
/// (promo codes are matched case-insensitively too), deduplicated, in the given order. Each is
/// a single token of at most 100 characters.
pub fn normalize_tags(
    values: &[String],
    marker: Option<char>,
    field: &str,
) -> Result<Vec<String>, ValidationError> {
    const MAX_TAGS: usize = 50;
    if values.len() > MAX_TAGS {
        return Err(ValidationError::new(
            field,
            format!("must hold at most {MAX_TAGS} values"),
        ));
    }
    let mut tags: Vec<String> = Vec::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        let trimmed = value.trim();
        let tag = marker
            .and_then(|m| trimmed.strip_prefix(m))
            .unwrap_or(trimmed)
            .to_lowercase();
        if tag.is_empty() || tag.chars().count() > 100 || tag.chars().any(char::is_whitespace) {
            return Err(ValidationError::new(
                format!("{field}[{index}]"),
                "must be one word of 1 to 100 characters",
            ));
        }
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    Ok(tags)
}

/// An optional tracked link: trimmed, `None` when blank, else an absolute http(s) URL.
pub fn tracking_url(raw: &str) -> Result<Option<String>, ValidationError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    check_url(raw)?;
    Ok(Some(raw.to_owned()))
}

/// One promo code, normalized as [`normalize_tags`] does; `None` when blank.
pub fn promo_code(raw: &str) -> Result<Option<String>, ValidationError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    normalize_tags(std::slice::from_ref(&raw.to_owned()), None, "")
        .map(|mut codes| codes.pop())
        .map_err(|e| ValidationError::new("", e.message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn campaigns_move_forward_or_cancel_until_completed() {
        use CampaignStatus::*;
        assert_eq!(Draft.move_to(Planned), Ok(Planned));
        assert_eq!(Planned.move_to(Active), Ok(Active));
        assert_eq!(Active.move_to(Completed), Ok(Completed));
        assert_eq!(Active.move_to(Cancelled), Ok(Cancelled));
        for (from, to) in [
            (Draft, Active),
            (Draft, Completed),
            (Active, Planned),
            (Completed, Cancelled),
            (Cancelled, Draft),
            (Completed, Active),
        ] {
            let error = from.move_to(to).expect_err("illegal");
            assert_eq!(error.from, from.as_str());
            assert_eq!(error.to, to.as_str());
        }
        assert!(Completed.is_closed() && Cancelled.is_closed() && !Active.is_closed());
    }

    #[test]
    fn review_workflow_allows_rounds_of_changes_but_no_shortcuts() {
        use ReviewStatus::*;
        let mut state = Draft;
        for next in [Submitted, ChangesRequested, Submitted, Approved, Published] {
            state = state.move_to(next).expect("legal");
        }
        assert!(Draft.move_to(Approved).is_err());
        assert!(Submitted.move_to(Published).is_err());
        assert!(Published.move_to(Draft).is_err());
        let message = Draft.move_to(Published).expect_err("illegal").to_string();
        assert!(message.contains("draft to published"), "{message}");
    }

    #[test]
    fn shipments_and_payments_never_go_backwards() {
        assert!(
            ShipmentStatus::Pending
                .move_to(ShipmentStatus::Delivered)
                .is_ok()
        );
        assert!(
            ShipmentStatus::Delivered
                .move_to(ShipmentStatus::Shipped)
                .is_err()
        );
        assert!(PaymentStatus::Unpaid.move_to(PaymentStatus::Paid).is_ok());
        assert!(
            PaymentStatus::Paid
                .move_to(PaymentStatus::Invoiced)
                .is_err()
        );
    }

    #[test]
    fn names_round_trip() {
        for status in ReviewStatus::ALL {
            assert_eq!(status.as_str().parse::<ReviewStatus>(), Ok(*status));
        }
        let error = "done".parse::<CampaignStatus>().expect_err("unknown");
        assert!(
            error.message.contains("draft, planned"),
            "{}",
            error.message
        );
    }

    #[test]
    fn deliverables_are_checked_field_by_field() {
        let seeding = DeliverableKind::ProductSeeding {
            product: "Trail mix".into(),
            quantity: 0,
            shipment: ShipmentStatus::Pending,
        };
        assert_eq!(
            seeding.validate().expect_err("quantity").field,
            "product_seeding.quantity"
        );
        let published = DeliverableKind::SponsoredContent {
            format: ContentFormat::Video,
            due: None,
            review: ReviewStatus::Published,
            content_url: None,
        };
        assert_eq!(
            published.validate().expect_err("url").field,
            "sponsored_content.content_url"
        );
        let live = DeliverableKind::SponsoredContent {
            format: ContentFormat::Live,
            due: None,
            review: ReviewStatus::Draft,
            content_url: Some("ftp://x".into()),
        };
        assert_eq!(
            live.validate().expect_err("format").field,
            "sponsored_content.format"
        );
        let switched = seeding.check_update(&published).expect_err("kind change");
        assert!(matches!(switched, UpdateError::Invalid(e) if e.field == "deliverable.kind"));
    }

    #[test]
    fn tags_are_normalized_and_checked() {
        let tags = normalize_tags(
            &["#GlowUp".into(), "glowup".into(), " #Vegan ".into()],
            Some('#'),
            "campaign.hashtags",
        )
        .expect("valid");
        assert_eq!(tags, ["glowup", "vegan"]);
        let error = normalize_tags(&["two words".into()], Some('#'), "campaign.hashtags")
            .expect_err("space");
        assert_eq!(error.field, "campaign.hashtags[0]");
    }

    #[test]
    fn money_needs_a_currency_code() {
        assert_eq!(Money::new("usd", 5).map(|m| m.currency), Ok("USD".into()));
        assert_eq!(
            Money::new("dollars", 5).expect_err("code").field,
            "currency_code"
        );
    }
}
