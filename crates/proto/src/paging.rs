//! Opaque page tokens (AIP-158) for lists that walk rows in id order.
//!
//! A token carries the id of the last row of the page (a seek: pages stay correct and fast at
//! any depth) and a fingerprint of the request's filters, so that a token offered with other
//! filters is refused instead of silently returning a wrong page.

use std::hash::Hasher;

use prost::Message;
use resonance_core::ValidationError;
use siphasher::sip::SipHasher13;

/// A stable fingerprint of a list and its filters: `list` names the list ("ListRosters"), so
/// that a token from one list is refused by another; give `filters` the request with its page
/// size and token cleared.
pub fn fingerprint(list: &str, filters: &impl Message) -> u64 {
    let mut hasher = SipHasher13::new_with_keys(0x7265_736f_6e61_6e63, 0x6570_6167_6573_0001);
    hasher.write(list.as_bytes());
    hasher.write_u8(0);
    hasher.write(&filters.encode_to_vec());
    hasher.finish()
}

/// The token that resumes after the row `last_id`.
pub fn id_token(last_id: i64, fingerprint: u64) -> String {
    format!("1.{last_id}.{fingerprint:016x}")
}

/// The id to resume after, from a token [`id_token`] made with the same fingerprint; `None`
/// for the first page.
pub fn parse_id_token(token: &str, fingerprint: u64) -> Result<Option<i64>, ValidationError> {
    let token = token.trim();
    if token.is_empty() {
        return Ok(None);
    }
    let invalid = || ValidationError::new("page_token", "is not a token this list returned");
    let mut parts = token.split('.');
    let (Some("1"), Some(id), Some(print), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let id: i64 = id.parse().map_err(|_| invalid())?;
    let print = u64::from_str_radix(print, 16).map_err(|_| invalid())?;
    if print != fingerprint {
        return Err(ValidationError::new(
            "page_token",
            "belongs to a request with other filters; start again without a token",
        ));
    }
    Ok(Some(id))
}

/// Cuts rows read with a limit of `page_size + 1` to a page, with the token of the next page
/// (empty when the extra row was not there: this was the last page).
pub fn page_of<T>(
    mut rows: Vec<T>,
    page_size: u64,
    id: impl Fn(&T) -> i64,
    fingerprint: u64,
) -> (Vec<T>, String) {
    let size = usize::try_from(page_size).unwrap_or(usize::MAX);
    if rows.len() <= size {
        return (rows, String::new());
    }
    rows.truncate(size);
    let token = rows
        .last()
        .map(|row| id_token(id(row), fingerprint))
        .unwrap_or_default();
    (rows, token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_resume_only_the_list_they_came_from() {
        let token = id_token(42, 7);
        assert_eq!(parse_id_token(&token, 7), Ok(Some(42)));
        assert_eq!(parse_id_token("", 7), Ok(None));
        assert_eq!(
            parse_id_token(&token, 8).expect_err("other filters").field,
            "page_token"
        );
        assert!(parse_id_token("garbage", 7).is_err());
        // Three rows read for a page of two: a next page; two rows: the last page.
        assert_eq!(
            page_of(vec![1, 2, 3], 2, |r| *r, 7),
            (vec![1, 2], id_token(2, 7))
        );
        assert_eq!(
            page_of(vec![1, 2], 2, |r| *r, 7),
            (vec![1, 2], String::new())
        );
        assert_ne!(
            fingerprint("ListRosters", &prost_types::Timestamp::default()),
            fingerprint("ListCampaigns", &prost_types::Timestamp::default())
        );
    }
}
