//! Reading positions on their way from a live call to Postgres.
//!
//! The bot reports where it is to the gateway (`POST /internal/sessions/{sid}/events`
//! with `"type": "position"`). The gateway, which never talks to Postgres, XADDs a
//! [`PositionEvent`] to `{ns}:positions`; workers read the stream in the consumer
//! group `workers`, store each event with [`crate::db::positions::save`] (a save
//! with an older `seq` changes nothing, so redelivery and reordering are harmless)
//! and then XACK and XDEL it. Delivery is at least once: an entry read by a worker
//! that dies is taken over, once idle for [`CLAIM_IDLE`], by the worker that leads
//! the sweeper (it looks every five minutes). The stream is never
//! capped: an event waits for a worker rather than being dropped.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::{BookId, HouseholdId};
use crate::stream::MessageError;

/// An entry a worker read but did not acknowledge for this long is taken over.
pub const CLAIM_IDLE: Duration = Duration::from_secs(60);

/// One reported position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionEvent {
    pub book_id: BookId,
    /// The call's household, set by the gateway from its own call state.
    pub household_id: HouseholdId,
    /// Empty for the household's own place.
    pub listener: String,
    pub ordinal: i32,
    pub offset: i32,
    pub seq: i64,
    pub session_id: String,
    pub reported_at: DateTime<Utc>,
}

impl PositionEvent {
    pub fn to_fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("book_id", self.book_id.to_string()),
            ("household_id", self.household_id.to_string()),
            ("listener", self.listener.clone()),
            ("ordinal", self.ordinal.to_string()),
            ("offset", self.offset.to_string()),
            ("seq", self.seq.to_string()),
            ("session_id", self.session_id.clone()),
            ("reported_at", self.reported_at.to_rfc3339()),
        ]
    }

    pub fn from_fields(fields: &HashMap<String, String>) -> Result<Self, MessageError> {
        let get = |name: &str| {
            fields
                .get(name)
                .ok_or_else(|| MessageError::new(format!("no {name}")))
        };
        let bad = |name: &str| MessageError::new(format!("bad {name}"));
        Ok(Self {
            book_id: get("book_id")?.parse().map_err(|_| bad("book_id"))?,
            household_id: get("household_id")?
                .parse()
                .map_err(|_| bad("household_id"))?,
            listener: fields.get("listener").cloned().unwrap_or_default(),
            ordinal: get("ordinal")?.parse().map_err(|_| bad("ordinal"))?,
            offset: get("offset")?.parse().map_err(|_| bad("offset"))?,
            seq: get("seq")?.parse().map_err(|_| bad("seq"))?,
            session_id: get("session_id")?.clone(),
            reported_at: DateTime::parse_from_rfc3339(get("reported_at")?)
                .map_err(|_| bad("reported_at"))?
                .with_timezone(&Utc),
        })
    }

    /// The save this event asks for.
    pub fn save(&self) -> crate::db::positions::Save {
        crate::db::positions::Save {
            book: self.book_id,
            household: self.household_id,
            listener: self.listener.clone(),
            ordinal: self.ordinal,
            offset: self.offset,
            seq: self.seq,
            session_id: Some(self.session_id.clone()),
        }
    }
}

/// `XADD {ns}:positions * field value …` for `event`.
pub fn xadd_cmd(keys: &crate::redis::Keys, event: &PositionEvent) -> redis::Cmd {
    let mut cmd = redis::cmd("XADD");
    cmd.arg(keys.positions_stream()).arg("*");
    for (name, value) in event.to_fields() {
        cmd.arg(name).arg(value);
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_survives_the_stream_and_a_bad_one_is_named() {
        let event = PositionEvent {
            book_id: BookId::new(),
            household_id: HouseholdId::new(),
            listener: "ana".into(),
            ordinal: 12,
            offset: 140,
            seq: 1_764_700_000_123,
            session_id: "s-1".into(),
            reported_at: DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z")
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or_default(),
        };
        let fields: HashMap<String, String> = event
            .to_fields()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(PositionEvent::from_fields(&fields).ok(), Some(event));
        let mut broken = fields;
        broken.insert("ordinal".into(), "twelve".into());
        assert_eq!(
            PositionEvent::from_fields(&broken)
                .map_err(|e| e.to_string())
                .err(),
            Some("malformed stream entry: bad ordinal".to_owned())
        );
    }
}
