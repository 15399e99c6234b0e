//! Reading error objects of any shape, without an intermediate JSON tree:
//! a `code` that is a string or a number, a `message` or none, nested
//! `innererror`/`details`, a bare string, a list (its first element).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::ServiceError;

/// A scalar as text (`"x"`, `5`, `true`); `None` for anything else.
pub(super) struct Text(pub(super) Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
        Ok(Text(Some(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
        Ok(Text(Some(v)))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
        Ok(Text(Some(v.to_string())))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
        Ok(Text(Some(v.to_string())))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
        Ok(Text(Some(v.to_string())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
        Ok(Text(Some(v.to_string())))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
        Ok(Text(None))
    }
    fn visit_none<E: de::Error>(self) -> Result<Text, E> {
        Ok(Text(None))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Text, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Text(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Text(None))
    }
}

/// The members of an error object the crate reads.
enum Key {
    Code,
    Message,
    Inner,
    Details,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    "code" => Key::Code,
                    "message" => Key::Message,
                    "innererror" | "innerError" => Key::Inner,
                    "details" => Key::Details,
                    _ => Key::Other,
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

struct ErrorVisitor;

impl<'de> Visitor<'de> for ErrorVisitor {
    type Value = ServiceError;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an error object")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<ServiceError, E> {
        Ok(ServiceError::new(None, Some(v.to_owned())))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<ServiceError, E> {
        Ok(ServiceError::new(Some(v.to_string()), None))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<ServiceError, E> {
        Ok(ServiceError::new(Some(v.to_string()), None))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ServiceError, E> {
        Ok(ServiceError::new(Some(v.to_string()), None))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<ServiceError, E> {
        Ok(ServiceError::new(Some(v.to_string()), None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<ServiceError, E> {
        Ok(ServiceError::default())
    }
    fn visit_none<E: de::Error>(self) -> Result<ServiceError, E> {
        Ok(ServiceError::default())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<ServiceError, D::Error> {
        d.deserialize_any(self)
    }
    /// A list of errors: the first.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ServiceError, A::Error> {
        let first = seq.next_element::<ServiceError>()?;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(first.unwrap_or_default())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ServiceError, A::Error> {
        let mut error = ServiceError::default();
        let (mut inner, mut details) = (None, None);
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Code => error.code = map.next_value::<Text>()?.0,
                Key::Message => error.message = map.next_value::<Text>()?.0,
                Key::Inner => inner = map.next_value::<Option<ServiceError>>()?,
                Key::Details => details = map.next_value::<Option<ServiceError>>()?,
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if error.code.is_none() {
            error.code = inner.and_then(|inner| inner.code);
        }
        if error.message.is_none() {
            error.message = details.and_then(|first| first.message);
        }
        Ok(error)
    }
}

impl<'de> Deserialize<'de> for ServiceError {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ErrorVisitor)
    }
}
