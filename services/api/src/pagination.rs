//! Opaque cursors for newest-first listings: base64url of `created_at|id`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

pub fn encode(at: DateTime<Utc>, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{}|{id}",
        at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    ))
}

pub fn decode(cursor: &str) -> Result<(DateTime<Utc>, Uuid), ApiError> {
    let bad =
        || ApiError::bad_request("invalid cursor; pass back the next_cursor of a previous page");
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (at, id) = text.split_once('|').ok_or_else(bad)?;
    Ok((
        DateTime::parse_from_rfc3339(at)
            .map_err(|_| bad())?
            .with_timezone(&Utc),
        id.parse().map_err(|_| bad())?,
    ))
}

/// `limit` within 1..=MAX_LIMIT, defaulting to DEFAULT_LIMIT.
pub fn limit(requested: Option<i64>) -> Result<i64, ApiError> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}, got {n}"
        ))),
    }
}

/// Trim a fetch of `limit + 1` rows to `limit`; the extra row, when present, says
/// another page follows, whose cursor is `next_of` the last row kept.
pub fn split_page<T, C>(
    mut rows: Vec<T>,
    limit: i64,
    next_of: impl Fn(&T) -> C,
) -> (Vec<T>, Option<C>) {
    let keep = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > keep;
    rows.truncate(keep);
    let next = if more { rows.last().map(next_of) } else { None };
    (rows, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = Utc::now();
        let id = Uuid::new_v4();
        let (at2, id2) = decode(&encode(at, id)).unwrap();
        assert_eq!(id2, id);
        assert_eq!(at2.timestamp_micros(), at.timestamp_micros());
        assert!(decode("not-a-cursor").is_err());
        assert!(decode(&URL_SAFE_NO_PAD.encode("x|y")).is_err());
    }

    #[test]
    fn pages_split_at_the_limit() {
        assert_eq!(split_page(vec![1, 2, 3], 2, |n| *n), (vec![1, 2], Some(2)));
        assert_eq!(split_page(vec![1, 2], 2, |n| *n), (vec![1, 2], None));
        assert_eq!(split_page(Vec::<i32>::new(), 2, |n| *n), (vec![], None));
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(limit(Some(200)).unwrap(), 200);
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(201)).is_err());
    }
}
