//! What the bot may receive from the browser.
//!
//! The browser's `body` reaches the bot as `runner_args.body`, next to the
//! identity the server sets (`user_id`, `household_id`, `session_started_at`).
//! Only the fields named in `BOT_BODY_FIELDS` pass, each with a value of its
//! declared shape; every other key (an identity or room field under any
//! spelling, a nested object, a field the bot does not read) is dropped, and a
//! named field with a value of the wrong shape is refused with 400. The default
//! passes what the reading bot needs: which book, which listener, and where to
//! start.

use serde_json::{Map, Value};

/// The default `BOT_BODY_FIELDS`.
pub const DEFAULT_FIELDS: &str = "bookId:uuid,book_id:uuid,listener:token,ordinal:integer";

/// The shape a field's value must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A UUID, as a string.
    Uuid,
    /// 1 to 64 letters, digits, `.`, `_` or `-` (a listener's name).
    Token,
    /// A whole number from 0 to 2^31 − 1.
    Integer,
    Boolean,
    /// A string of at most 200 characters with no control characters.
    Text,
}

impl Shape {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "uuid" => Self::Uuid,
            "token" => Self::Token,
            "integer" => Self::Integer,
            "boolean" => Self::Boolean,
            "text" => Self::Text,
            _ => return None,
        })
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Uuid => "a UUID string",
            Self::Token => "1 to 64 letters, digits, '.', '_' or '-'",
            Self::Integer => "a whole number from 0 to 2147483647",
            Self::Boolean => "true or false",
            Self::Text => "a string of at most 200 characters without control characters",
        }
    }

    fn accepts(self, value: &Value) -> bool {
        match (self, value) {
            // The hyphenated form only (as the document's pattern says).
            (Self::Uuid, Value::String(s)) => s.len() == 36 && uuid::Uuid::parse_str(s).is_ok(),
            (Self::Token, Value::String(s)) => {
                (1..=64).contains(&s.len())
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            }
            (Self::Integer, Value::Number(_)) => whole(value).is_some(),
            (Self::Boolean, Value::Bool(_)) => true,
            (Self::Text, Value::String(s)) => {
                s.chars().count() <= 200 && !s.chars().any(char::is_control)
            }
            _ => false,
        }
    }
}

/// A whole number from 0 to 2^31 − 1, written `12` or `12.0` (JSON makes no
/// difference).
fn whole(value: &Value) -> Option<u64> {
    let n = value.as_number()?;
    let whole = n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= f64::from(i32::MAX))
            .map(|f| f as u64)
    })?;
    (whole <= u64::from(i32::MAX.unsigned_abs())).then_some(whole)
}

/// Names that decide who the caller is or which room the bot joins: the server
/// sets or refuses these, so no configuration may let the browser send them.
/// Compared without case, `_`, `-` or spaces (`userId`, `USER_ID`, `user-id`).
const SERVER_OWNED: &[&str] = &[
    "userid",
    "householdid",
    "sessionstartedat",
    "sessionid",
    "roomurl",
    "room",
    "roomname",
    "token",
    "dailyroom",
    "dailytoken",
    "dailyroomurl",
    "createdailyroom",
    "dailyroomproperties",
    "dailymeetingtokenproperties",
];

fn normalized(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The fields the browser may send the bot, and their shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyPolicy {
    fields: Vec<(String, Shape)>,
}

impl BodyPolicy {
    /// `name:shape` pairs, comma-separated (shapes: uuid, token, integer,
    /// boolean, text); empty: the bot gets nothing from the browser.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut fields = Vec::new();
        for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (name, shape) = item
                .split_once(':')
                .ok_or_else(|| format!("{item:?} is not name:shape"))?;
            let (name, shape) = (name.trim(), shape.trim());
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            {
                return Err(format!("{name:?} is not a field name"));
            }
            if SERVER_OWNED.contains(&normalized(name).as_str()) {
                return Err(format!(
                    "{name:?} is set by the server (identity or room) and cannot come from the browser"
                ));
            }
            let shape = Shape::parse(shape).ok_or_else(|| {
                format!("{shape:?} is not a shape (uuid, token, integer, boolean or text)")
            })?;
            fields.push((name.to_owned(), shape));
        }
        Ok(Self { fields })
    }

    /// The browser's body reduced to the allowed fields. `Err` names the first
    /// allowed field whose value has the wrong shape.
    pub fn filter(&self, body: Map<String, Value>) -> Result<Map<String, Value>, String> {
        let mut out = Map::new();
        let mut dropped = Vec::new();
        for (key, value) in body {
            match self.fields.iter().find(|(name, _)| *name == key) {
                Some(_) if value.is_null() => {}
                Some((name, shape)) if shape.accepts(&value) => {
                    // A whole number goes on as one (`12.0` becomes `12`).
                    let value = match (shape, whole(&value)) {
                        (Shape::Integer, Some(n)) => Value::from(n),
                        _ => value,
                    };
                    out.insert(name.clone(), value);
                }
                Some((name, shape)) => {
                    return Err(format!("body.{name} must be {}", shape.describe()));
                }
                None => dropped.push(key),
            }
        }
        if !dropped.is_empty() {
            tracing::debug!(
                ?dropped,
                "body fields the bot does not take from the browser"
            );
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn only_named_fields_of_the_right_shape_pass() {
        let policy = BodyPolicy::parse(DEFAULT_FIELDS).unwrap();
        let book = "7d444840-9dc0-11d1-b245-5ffdce74fad2";
        let out = policy
            .filter(body(json!({
                "bookId": book,
                "listener": "ana",
                "ordinal": 12,
                "userId": "x", "USER_ID": "x", "user_id ": "x", "householdId": "h",
                "dailyRoomUrl": "https://evil", "roomName": "r", "sessionId": "s",
                "nested": {"user_id": "x"}, "unknown": 1,
            })))
            .unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"bookId": book, "listener": "ana", "ordinal": 12})
        );
    }

    #[test]
    fn a_named_field_of_the_wrong_shape_is_refused() {
        let policy = BodyPolicy::parse(DEFAULT_FIELDS).unwrap();
        for bad in [
            json!({"bookId": "b"}),
            json!({"bookId": {"user_id": "x"}}),
            json!({"listener": "a b"}),
            json!({"listener": "x".repeat(65)}),
            json!({"ordinal": -1}),
            json!({"ordinal": 1.5}),
            json!({"ordinal": 3e10}),
            json!({"ordinal": "3"}),
        ] {
            assert!(policy.filter(body(bad.clone())).is_err(), "{bad}");
        }
        assert_eq!(
            policy.filter(body(json!({"ordinal": null}))).unwrap(),
            Map::new()
        );
        assert_eq!(
            Value::Object(policy.filter(body(json!({"ordinal": 12.0}))).unwrap()),
            json!({"ordinal": 12})
        );
    }

    #[test]
    fn the_configuration_cannot_let_identity_or_room_fields_through() {
        for spec in [
            "userId:text",
            "USER_ID:token",
            "household-id:uuid",
            "dailyRoomUrl:text",
            "token:text",
            "sessionId:uuid",
        ] {
            assert!(BodyPolicy::parse(spec).is_err(), "{spec}");
        }
        assert!(BodyPolicy::parse("voice:token,speed:integer,chapter").is_err());
        assert!(BodyPolicy::parse("voice:colour").is_err());
        assert_eq!(
            BodyPolicy::parse("").unwrap(),
            BodyPolicy { fields: vec![] }
        );
        let custom = BodyPolicy::parse("voice:token, slow:boolean").unwrap();
        assert_eq!(
            Value::Object(
                custom
                    .filter(body(json!({"voice": "calm", "slow": true, "bookId": "x"})))
                    .unwrap()
            ),
            json!({"voice": "calm", "slow": true})
        );
    }
}
