//! The seam to any HTTP client: send one request, get one response.
//!
//! A [`Transport`] exchanges one `http::Request<Bytes>` for one
//! `http::Response<Bytes>`. It does not follow redirects on its own account in
//! a way that hides a `303` from the crate, and it reads the body whole (up to a
//! limit of its choosing). Every request the crate sends carries a
//! [`RequestMeta`] in its extensions saying what it is for and whether it goes
//! to the origin of the start request, so a transport can decide which
//! credentials to attach.

mod error;
#[cfg(feature = "reqwest")]
mod reqwest;
mod seam;
#[cfg(feature = "tower")]
mod tower;

pub use self::error::TransportError;
pub(crate) use self::error::TransportErrorKind;
#[cfg(feature = "reqwest")]
pub use self::reqwest::ReqwestTransport;
pub use self::seam::{RequestKind, RequestMeta, Transport};
#[cfg(feature = "tower")]
pub use self::tower::TowerTransport;
