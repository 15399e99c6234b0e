//! How a waiter reads an answer: the output of a success and the error type
//! of an error, by the crate's own rules ([`answer`](super::answer)) or by
//! the SDK's own decoder and error-code reader, then named as the model names
//! them ([`WireNames`]).

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;

use super::answer::{error_type, output};
use super::model::WireNames;

/// An SDK's decoder: a successful answer → its output, as the model names
/// its members.
type Decoder = dyn Fn(&http::Response<Bytes>) -> Result<Value, String> + Send + Sync;

/// An SDK's error-code reader: an error answer → its code, when it finds one.
type CodeReader = dyn Fn(&http::Response<Bytes>) -> Option<String> + Send + Sync;

/// The waiter's way of reading answers.
#[derive(Clone, Default)]
pub(crate) struct Reader {
    decoder: Option<Arc<Decoder>>,
    code: Option<Arc<CodeReader>>,
}

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("decoder", &self.decoder.as_ref().map(|_| "custom"))
            .field("error_code", &self.code.as_ref().map(|_| "custom"))
            .finish()
    }
}

impl Reader {
    /// Reads outputs with `decode` instead of as a JSON body.
    pub(crate) fn with_decoder<F, E>(mut self, decode: F) -> Self
    where
        F: Fn(&http::Response<Bytes>) -> Result<Value, E> + Send + Sync + 'static,
        E: fmt::Display,
    {
        self.decoder = Some(Arc::new(move |answer: &http::Response<Bytes>| {
            decode(answer).map_err(|error| error.to_string())
        }));
        self
    }

    /// Reads error codes with `read` first.
    pub(crate) fn with_error_code<F>(mut self, read: F) -> Self
    where
        F: Fn(&http::Response<Bytes>) -> Option<String> + Send + Sync + 'static,
    {
        self.code = Some(Arc::new(read));
        self
    }

    /// The output of a successful answer, as the model names its members:
    /// the SDK's decoder's, or the JSON body with the model's wire names
    /// undone. `Err` says why it cannot be read.
    pub(crate) fn output(
        &self,
        wire: Option<&WireNames>,
        answer: &http::Response<Bytes>,
    ) -> Result<Value, String> {
        if let Some(decode) = &self.decoder {
            return decode(answer);
        }
        let value = output(answer.body()).map_err(|error| format!("not JSON ({error})"))?;
        Ok(match wire {
            Some(wire) => wire.output(value),
            None => value,
        })
    }

    /// The error type of an error answer, as the model names its error
    /// shapes: the SDK's reader's code when it gives one, else the crate's
    /// own reading; a wire code the model maps to a shape becomes that
    /// shape's name.
    pub(crate) fn error_type(
        &self,
        wire: Option<&WireNames>,
        answer: &http::Response<Bytes>,
    ) -> Option<String> {
        let code = self
            .code
            .as_ref()
            .and_then(|read| read(answer))
            .filter(|code| !code.trim().is_empty())
            .or_else(|| error_type(answer))?;
        match wire.and_then(|wire| wire.error(&code)) {
            Some(shape) => Some(shape.to_owned()),
            None => Some(code),
        }
    }
}

/// The operation's input read from the start request's body, as the model
/// names its members (`null` when it is not JSON).
pub(crate) fn input(wire: Option<&WireNames>, body: &[u8]) -> Value {
    let value = output(body).unwrap_or(Value::Null);
    match wire {
        Some(wire) => wire.input(value),
        None => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> http::Response<Bytes> {
        http::Response::builder()
            .status(status)
            .body(Bytes::from(body.to_owned()))
            .unwrap()
    }

    #[test]
    fn the_sdks_decoder_reads_outputs() {
        let reader = Reader::default().with_decoder(|answer: &http::Response<Bytes>| match answer
            .body()
            .starts_with(b"<ok/>")
        {
            true => Ok(serde_json::json!({"State": "ok"})),
            false => Err("no <ok/>"),
        });
        assert_eq!(
            reader.output(None, &answer(200, "<ok/>")),
            Ok(serde_json::json!({"State": "ok"}))
        );
        assert_eq!(
            reader.output(None, &answer(200, "{}")),
            Err("no <ok/>".to_owned())
        );
        assert!(format!("{reader:?}").contains("custom"));
        // Without one, the body is JSON.
        assert!(
            Reader::default()
                .output(None, &answer(200, "<ok/>"))
                .is_err()
        );
    }

    #[test]
    fn the_sdks_code_reader_comes_first_and_falls_back() {
        let reader = Reader::default().with_error_code(|answer: &http::Response<Bytes>| {
            (answer.status() == 400).then(|| "Mine".to_owned())
        });
        let body = r#"{"__type": "Theirs"}"#;
        assert_eq!(
            reader.error_type(None, &answer(400, body)).as_deref(),
            Some("Mine")
        );
        assert_eq!(
            reader.error_type(None, &answer(409, body)).as_deref(),
            Some("Theirs")
        );
        let blank = Reader::default().with_error_code(|_: &http::Response<Bytes>| Some(" ".into()));
        assert_eq!(
            blank.error_type(None, &answer(404, "")).as_deref(),
            Some("NotFound")
        );
    }
}
