//! SearchCreators requests: validation into a store query, and opaque page tokens.
//!
//! A page token carries the sort key and id of the last creator of the page (a seek, so pages
//! stay correct and fast at any depth) and a fingerprint of the filters, so that a token is
//! refused with another request's filters instead of silently returning a wrong page.

use resonance_core::{Platform, ValidationError};
use resonance_proto::scoring::SearchCreatorsRequest;
use resonance_proto::scoring::search_creators_request::SortBy;
use resonance_proto::{convert, paging};
use resonance_store::{SearchQuery, SearchSort};

/// Page size when the request gives none.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
/// Larger page sizes are capped to this.
pub const MAX_PAGE_SIZE: u64 = 500;
/// The most values one list filter may hold.
const MAX_FILTER_VALUES: usize = 100;

fn fingerprint(request: &SearchCreatorsRequest) -> u64 {
    let mut filters = request.clone();
    filters.page_size = 0;
    filters.page_token.clear();
    paging::fingerprint("SearchCreators", &filters)
}

fn sort_name(sort: SearchSort) -> &'static str {
    match sort {
        SearchSort::Value => "v",
        SearchSort::Engagement => "e",
        SearchSort::Authenticity => "a",
        SearchSort::Followers => "f",
    }
}

/// The token that resumes after `(key, id)`.
pub fn page_token(request: &SearchCreatorsRequest, sort: SearchSort, key: f64, id: i64) -> String {
    format!(
        "1.{}.{:016x}.{id}.{:016x}",
        sort_name(sort),
        key.to_bits(),
        fingerprint(request)
    )
}

fn parse_token(
    request: &SearchCreatorsRequest,
    sort: SearchSort,
) -> Result<Option<(f64, i64)>, ValidationError> {
    let token = request.page_token.trim();
    if token.is_empty() {
        return Ok(None);
    }
    let invalid = || ValidationError::new("page_token", "is not a token this search returned");
    let parts: Vec<&str> = token.split('.').collect();
    let [version, sort_part, key, id, print] = parts.as_slice() else {
        return Err(invalid());
    };
    if *version != "1" {
        return Err(invalid());
    }
    let key = u64::from_str_radix(key, 16).map_err(|_| invalid())?;
    let id = id.parse::<i64>().map_err(|_| invalid())?;
    let print = u64::from_str_radix(print, 16).map_err(|_| invalid())?;
    if *sort_part != sort_name(sort) || print != fingerprint(request) {
        return Err(ValidationError::new(
            "page_token",
            "belongs to a search with other filters or another sort; start again without it",
        ));
    }
    let key = f64::from_bits(key);
    if !key.is_finite() {
        return Err(invalid());
    }
    Ok(Some((key, id)))
}

fn bounded<T>(values: &[T], field: &str) -> Result<(), ValidationError> {
    if values.len() > MAX_FILTER_VALUES {
        return Err(ValidationError::new(
            field,
            format!("at most {MAX_FILTER_VALUES} values (got {})", values.len()),
        ));
    }
    Ok(())
}

/// The store query of a request. `known_niche` tells whether the taxonomy has a niche id;
/// `currency` is the one prices are kept in.
pub fn query(
    request: &SearchCreatorsRequest,
    known_niche: impl Fn(&str) -> bool,
    currency: &str,
) -> Result<SearchQuery, ValidationError> {
    bounded(&request.platforms, "platforms")?;
    bounded(&request.niches, "niches")?;
    bounded(&request.tiers, "tiers")?;
    bounded(&request.countries, "countries")?;
    bounded(&request.languages, "languages")?;
    let platforms = request
        .platforms
        .iter()
        .enumerate()
        .map(|(i, p)| convert::platform(*p).map_err(|e| e.within(&format!("platforms[{i}]"))))
        .collect::<Result<Vec<Platform>, _>>()?;
    let niches = request
        .niches
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let id = n.trim().to_ascii_lowercase();
            if known_niche(&id) {
                Ok(id)
            } else {
                Err(ValidationError::new(
                    format!("niches[{i}]"),
                    format!("{n:?} is not a niche of the configured taxonomy"),
                ))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let tiers = request
        .tiers
        .iter()
        .enumerate()
        .map(|(i, t)| convert::tier(*t).map_err(|e| e.within(&format!("tiers[{i}]"))))
        .collect::<Result<Vec<_>, _>>()?;
    let (min_followers, max_followers) = match &request.followers {
        None => (None, None),
        Some(range) => {
            let bound = |raw: i64, field: &str| match raw {
                0 => Ok(None),
                r if r < 0 => Err(ValidationError::new(
                    format!("followers.{field}"),
                    format!("must not be negative (got {r})"),
                )),
                r => Ok(Some(r.unsigned_abs())),
            };
            let min = bound(range.min_followers, "min_followers")?;
            let max = bound(range.max_followers, "max_followers")?;
            if let (Some(min), Some(max)) = (min, max)
                && min > max
            {
                return Err(ValidationError::new(
                    "followers.max_followers",
                    format!("must not be below min_followers ({min})"),
                ));
            }
            (min, max)
        }
    };
    let percent = |value: f64, field: &str| {
        if value.is_finite() && (0.0..=100.0).contains(&value) {
            Ok((value > 0.0).then_some(value))
        } else {
            Err(ValidationError::new(
                field,
                format!("must lie between 0 and 100 (got {value})"),
            ))
        }
    };
    let min_percentile = percent(
        request.min_engagement_percentile,
        "min_engagement_percentile",
    )?;
    let min_authenticity = percent(request.min_authenticity, "min_authenticity")?;
    let countries = request
        .countries
        .iter()
        .enumerate()
        .map(|(i, c)| {
            resonance_core::account::country_code(c)
                .map_err(|e| e.within(&format!("countries[{i}]")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let languages = request
        .languages
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let tag = l.trim().to_ascii_lowercase();
            if tag.is_empty() || tag.len() > 35 {
                Err(ValidationError::new(
                    format!("languages[{i}]"),
                    format!("{l:?} is not a BCP 47 language tag"),
                ))
            } else {
                Ok(tag)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let max_post_price = request
        .max_post_price
        .as_ref()
        .map(|money| convert::money_amount(money, currency).map_err(|e| e.within("max_post_price")))
        .transpose()?;
    if max_post_price.is_some_and(|p| p < 0.0) {
        return Err(ValidationError::new(
            "max_post_price",
            "must not be negative",
        ));
    }
    let sort = match SortBy::try_from(request.sort_by) {
        Ok(SortBy::Unspecified | SortBy::Value) => SearchSort::Value,
        Ok(SortBy::Engagement) => SearchSort::Engagement,
        Ok(SortBy::Authenticity) => SearchSort::Authenticity,
        Ok(SortBy::Followers) => SearchSort::Followers,
        Err(_) => {
            return Err(ValidationError::new(
                "sort_by",
                format!("unknown value {}", request.sort_by),
            ));
        }
    };
    let limit =
        resonance_proto::status::page_size(request.page_size, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    Ok(SearchQuery {
        platforms,
        niches,
        tiers,
        min_followers,
        max_followers,
        min_percentile,
        min_authenticity,
        countries,
        languages,
        max_post_price,
        sort,
        after: parse_token(request, sort)?,
        limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_resumes_only_the_search_it_came_from() {
        let request = SearchCreatorsRequest {
            niches: vec!["food".into()],
            ..Default::default()
        };
        let token = page_token(&request, SearchSort::Value, 0.25, 42);
        let next = SearchCreatorsRequest {
            page_token: token.clone(),
            page_size: 10,
            ..request.clone()
        };
        let query = query(&next, |_| true, "USD").expect("valid");
        assert_eq!(query.after, Some((0.25, 42)));
        assert_eq!(query.limit, 10);

        let other = SearchCreatorsRequest {
            niches: vec!["travel".into()],
            page_token: token,
            ..Default::default()
        };
        let error = super::query(&other, |_| true, "USD").expect_err("other filters");
        assert_eq!(error.field, "page_token");
        let garbage = SearchCreatorsRequest {
            page_token: "abc".into(),
            ..Default::default()
        };
        assert_eq!(
            super::query(&garbage, |_| true, "USD")
                .expect_err("garbage")
                .field,
            "page_token"
        );
    }

    #[test]
    fn bad_filters_name_the_field() {
        let cases = [
            (
                SearchCreatorsRequest {
                    niches: vec!["knitting".into()],
                    ..Default::default()
                },
                "niches[0]",
            ),
            (
                SearchCreatorsRequest {
                    min_authenticity: f64::NAN,
                    ..Default::default()
                },
                "min_authenticity",
            ),
            (
                SearchCreatorsRequest {
                    tiers: vec![99],
                    ..Default::default()
                },
                "tiers[0]",
            ),
            (
                SearchCreatorsRequest {
                    page_size: -1,
                    ..Default::default()
                },
                "page_size",
            ),
            (
                SearchCreatorsRequest {
                    max_post_price: Some(resonance_proto::common::Money {
                        currency_code: "EUR".into(),
                        units: 100,
                        nanos: 0,
                    }),
                    ..Default::default()
                },
                "max_post_price.currency_code",
            ),
        ];
        for (request, field) in cases {
            let error = query(&request, |id| id == "food", "USD").expect_err(field);
            assert_eq!(error.field, field);
        }
    }
}
