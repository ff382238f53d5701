//! Conversions between wire types and domain types.
//!
//! Wire to domain parses and may fail with a [`ValidationError`] whose field path is relative
//! to the message converted; callers prefix it with `within` as they descend. Domain to wire
//! cannot fail.

mod scoring;

use chrono::{DateTime, TimeDelta, Utc};
use resonance_core::{ContentFormat, Platform, Tier, ValidationError};

use crate::common as pb;

pub use scoring::{
    MAX_EXTERNAL_ID_CHARS, MAX_ITEMS_PER_ACCOUNT, account_data, creator_score, deliverable,
    deliverable_to_proto, engagement_definition, follower_profile, observed, post, profile,
    snapshot,
};

/// A protobuf timestamp as a UTC time.
pub fn time(ts: &prost_types::Timestamp) -> Result<DateTime<Utc>, ValidationError> {
    let nanos = u32::try_from(ts.nanos)
        .ok()
        .filter(|&n| n < 1_000_000_000)
        .ok_or_else(|| {
            ValidationError::new("nanos", format!("must be in 0..1e9 (got {})", ts.nanos))
        })?;
    // Microseconds: what PostgreSQL keeps, so a time read back equals the time written and
    // natural keys that include a time match on every backend.
    DateTime::from_timestamp(ts.seconds, nanos - nanos % 1_000).ok_or_else(|| {
        ValidationError::new("seconds", format!("out of range (got {})", ts.seconds))
    })
}

/// A required timestamp field.
pub fn required_time(
    ts: Option<&prost_types::Timestamp>,
    field: &str,
) -> Result<DateTime<Utc>, ValidationError> {
    let ts = ts.ok_or_else(|| ValidationError::new(field, "is required"))?;
    time(ts).map_err(|e| e.within(field))
}

pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// An amount as Money: whole units and nanos with the same sign, rounded to the nano.
pub fn money(amount: f64, currency: &str) -> pb::Money {
    let amount = if amount.is_finite() { amount } else { 0.0 };
    // Round once, on the total: rounding the fraction alone could give 1,000,000,000 nanos.
    let total = (amount * 1e9).round() as i128;
    pb::Money {
        currency_code: currency.to_owned(),
        units: i64::try_from(total / 1_000_000_000).unwrap_or(if total < 0 {
            i64::MIN
        } else {
            i64::MAX
        }),
        nanos: (total % 1_000_000_000) as i32,
    }
}

/// Money as an amount, refusing a currency other than `currency` and inconsistent signs.
pub fn money_amount(value: &pb::Money, currency: &str) -> Result<f64, ValidationError> {
    if !value.currency_code.eq_ignore_ascii_case(currency) {
        return Err(ValidationError::new(
            "currency_code",
            format!(
                "{:?} is not the currency prices are kept in ({currency})",
                value.currency_code
            ),
        ));
    }
    if value.nanos.abs() >= 1_000_000_000
        || (value.units > 0 && value.nanos < 0)
        || (value.units < 0 && value.nanos > 0)
    {
        return Err(ValidationError::new(
            "nanos",
            "must lie within +/-999,999,999 and have the sign of units",
        ));
    }
    Ok(value.units as f64 + f64::from(value.nanos) / 1e9)
}

/// Money as kept: millionths of a unit. Refuses finer amounts (they would be rounded away),
/// negative ones, and mixed signs.
pub fn money_micros(value: &pb::Money) -> Result<resonance_core::campaign::Money, ValidationError> {
    if value.units < 0 || value.nanos < 0 {
        return Err(ValidationError::new("", "must not be negative"));
    }
    if value.nanos >= 1_000_000_000 {
        return Err(ValidationError::new("nanos", "must be below 1,000,000,000"));
    }
    if value.nanos % 1_000 != 0 {
        return Err(ValidationError::new(
            "nanos",
            "must be a multiple of 1,000: amounts are kept to the millionth",
        ));
    }
    let micros = value
        .units
        .checked_mul(1_000_000)
        .and_then(|units| units.checked_add(i64::from(value.nanos / 1_000)))
        .ok_or_else(|| ValidationError::new("units", "is too large"))?;
    resonance_core::campaign::Money::new(&value.currency_code, micros)
}

/// Money kept in millionths of a unit, on the wire.
pub fn money_from_micros(currency: &str, micros: i64) -> pb::Money {
    pb::Money {
        currency_code: currency.to_owned(),
        units: micros / 1_000_000,
        nanos: i32::try_from((micros % 1_000_000) * 1_000).unwrap_or(0),
    }
}

pub fn duration(span: TimeDelta) -> prost_types::Duration {
    let nanos = span.subsec_nanos();
    prost_types::Duration {
        seconds: span.num_seconds(),
        nanos,
    }
}

pub fn platform(raw: i32) -> Result<Platform, ValidationError> {
    let value = pb::Platform::try_from(raw)
        .map_err(|_| ValidationError::new("", format!("unknown value {raw}")))?;
    Ok(match value {
        pb::Platform::Unspecified => return Err(ValidationError::new("", "must be set")),
        pb::Platform::Instagram => Platform::Instagram,
        pb::Platform::Tiktok => Platform::TikTok,
        pb::Platform::Youtube => Platform::YouTube,
        pb::Platform::X => Platform::X,
        pb::Platform::Facebook => Platform::Facebook,
        pb::Platform::Twitch => Platform::Twitch,
        pb::Platform::Blog => Platform::Blog,
    })
}

pub fn platform_to_proto(value: Platform) -> pb::Platform {
    match value {
        Platform::Instagram => pb::Platform::Instagram,
        Platform::TikTok => pb::Platform::Tiktok,
        Platform::YouTube => pb::Platform::Youtube,
        Platform::X => pb::Platform::X,
        Platform::Facebook => pb::Platform::Facebook,
        Platform::Twitch => pb::Platform::Twitch,
        Platform::Blog => pb::Platform::Blog,
    }
}

pub fn tier(raw: i32) -> Result<Tier, ValidationError> {
    match pb::Tier::try_from(raw) {
        Ok(pb::Tier::Nano) => Ok(Tier::Nano),
        Ok(pb::Tier::Micro) => Ok(Tier::Micro),
        Ok(pb::Tier::Macro) => Ok(Tier::Macro),
        Ok(pb::Tier::Mega) => Ok(Tier::Mega),
        Ok(pb::Tier::Unspecified) => Err(ValidationError::new("", "must not be TIER_UNSPECIFIED")),
        Err(_) => Err(ValidationError::new("", format!("unknown tier {raw}"))),
    }
}

pub fn tier_to_proto(value: Tier) -> pb::Tier {
    match value {
        Tier::Nano => pb::Tier::Nano,
        Tier::Micro => pb::Tier::Micro,
        Tier::Macro => pb::Tier::Macro,
        Tier::Mega => pb::Tier::Mega,
    }
}

/// Unspecified means a plain post.
pub fn content_format(raw: i32) -> Result<ContentFormat, ValidationError> {
    let value = pb::ContentFormat::try_from(raw)
        .map_err(|_| ValidationError::new("", format!("unknown value {raw}")))?;
    Ok(match value {
        pb::ContentFormat::Unspecified | pb::ContentFormat::Post => ContentFormat::Post,
        pb::ContentFormat::Carousel => ContentFormat::Carousel,
        pb::ContentFormat::Video => ContentFormat::Video,
        pb::ContentFormat::Reel => ContentFormat::Reel,
        pb::ContentFormat::Story => ContentFormat::Story,
        pb::ContentFormat::BlogPost => ContentFormat::BlogPost,
        pb::ContentFormat::Live => ContentFormat::Live,
    })
}

pub fn content_format_to_proto(value: ContentFormat) -> pb::ContentFormat {
    match value {
        ContentFormat::Post => pb::ContentFormat::Post,
        ContentFormat::Carousel => pb::ContentFormat::Carousel,
        ContentFormat::Video => pb::ContentFormat::Video,
        ContentFormat::Reel => pb::ContentFormat::Reel,
        ContentFormat::Story => pb::ContentFormat::Story,
        ContentFormat::BlogPost => pb::ContentFormat::BlogPost,
        ContentFormat::Live => pb::ContentFormat::Live,
    }
}

/// A creator reference: platform and handle.
pub fn creator_ref(
    value: &pb::CreatorRef,
) -> Result<(Platform, resonance_core::Handle), ValidationError> {
    let platform = platform(value.platform).map_err(|e| e.within("platform"))?;
    let handle = resonance_core::Handle::parse(&value.handle).map_err(|e| e.within("handle"))?;
    Ok((platform, handle))
}

/// Optional free text: empty means absent.
pub(crate) fn non_empty(value: &str) -> Option<String> {
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_kept_to_the_millionth() {
        let usd = |units, nanos| pb::Money {
            currency_code: "usd".into(),
            units,
            nanos,
        };
        let kept = money_micros(&usd(12, 340_000_000)).expect("valid");
        assert_eq!((kept.currency.as_str(), kept.micros), ("USD", 12_340_000));
        assert_eq!(
            money_from_micros("USD", kept.micros),
            pb::Money {
                currency_code: "USD".into(),
                units: 12,
                nanos: 340_000_000
            }
        );
        assert_eq!(money_micros(&usd(1, 1)).expect_err("nanos").field, "nanos");
        assert!(money_micros(&usd(-1, 0)).is_err());
        assert!(money_micros(&usd(i64::MAX, 0)).is_err());
    }

    #[test]
    fn money_rounds_to_whole_nanos_of_one_sign() {
        let cases = [
            (2.999_999_999_6, (3, 0)),
            (12.5, (12, 500_000_000)),
            (-0.25, (0, -250_000_000)),
            (f64::NAN, (0, 0)),
        ];
        for (amount, (units, nanos)) in cases {
            let value = money(amount, "USD");
            assert_eq!((value.units, value.nanos), (units, nanos), "{amount}");
            assert!(money_amount(&value, "usd").is_ok());
        }
    }

    #[test]
    fn timestamps_round_trip_to_the_microsecond_and_bad_nanos_are_named() {
        let at = DateTime::from_timestamp(1_700_000_000, 123_456_000).expect("valid time");
        assert_eq!(time(&timestamp(at)), Ok(at));
        // Nanoseconds are cut to what PostgreSQL keeps.
        let finer = DateTime::from_timestamp(1_700_000_000, 123_456_789).expect("valid time");
        assert_eq!(time(&timestamp(finer)), Ok(at));
        let error = time(&prost_types::Timestamp {
            seconds: 0,
            nanos: -1,
        })
        .expect_err("negative nanos");
        assert_eq!(error.field, "nanos");
    }

    #[test]
    fn unspecified_platform_is_refused() {
        assert_eq!(platform(0).expect_err("unspecified").message, "must be set");
        assert_eq!(
            platform(99).expect_err("unknown").message,
            "unknown value 99"
        );
        for value in Platform::ALL {
            assert_eq!(platform(platform_to_proto(value) as i32), Ok(value));
        }
    }
}
