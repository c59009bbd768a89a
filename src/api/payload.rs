//! JSON that was encoded ahead of time: the bytes go out as they are, while the spec still
//! describes them with `T`'s schema. Used for the catalog, which changes rarely and is read by all.

use std::marker::PhantomData;

use bytes::Bytes;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;

/// The content type of JSON responses.
pub const JSON_UTF8: &str = "application/json; charset=utf-8";

pub struct PreEncodedJson<T> {
    bytes: Bytes,
    _schema: PhantomData<fn() -> T>,
}

impl<T> PreEncodedJson<T> {
    /// `bytes` must be the JSON encoding of a `T`.
    pub fn new(bytes: impl Into<Bytes>) -> Self {
        PreEncodedJson {
            bytes: bytes.into(),
            _schema: PhantomData,
        }
    }
}

impl<T: Type> Payload for PreEncodedJson<T> {
    const CONTENT_TYPE: &'static str = JSON_UTF8;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T> IntoResponse for PreEncodedJson<T> {
    fn into_response(self) -> Response {
        Response::builder().content_type(JSON_UTF8).body(self.bytes)
    }
}
