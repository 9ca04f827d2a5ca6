//! A bound on the listings streamed at once. A streamed listing holds a database
//! connection (or cursor) for as long as its client takes to read it, so without a bound
//! a few slow readers could take every pooled connection and starve the random picks and
//! fights the service exists for.

use std::sync::Arc;

use http::StatusCode;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{
    config::{ConfigError, Env},
    Problem,
};

/// `DB_MAX_LISTINGS` of a service whose listings read through its pool of `pool_max`
/// connections (at least 2): at most `pool_max - 1`, so that random picks and reads by
/// id always keep a connection; by default 2, or fewer for a smaller pool.
pub fn max_from_env(env: &Env, pool_max: usize) -> Result<usize, ConfigError> {
    let most = pool_max.saturating_sub(1).max(1) as u64;
    Ok(env.bounded("DB_MAX_LISTINGS", most.min(2), 1, most)? as usize)
}

/// The places for listings; a listing past them is answered 503 with `Retry-After` at
/// once rather than queued.
#[derive(Debug, Clone)]
pub struct Listings {
    places: Arc<Semaphore>,
    /// What the 503 says, naming what the client can do instead.
    refusal: &'static str,
}

/// One listing's place, given back when it is dropped: keep it inside the stream, so
/// that the place lasts exactly as long as the listing is read.
#[derive(Debug)]
pub struct Listing {
    _place: OwnedSemaphorePermit,
}

impl Listings {
    /// The default answer past the bound.
    pub const REFUSAL: &'static str = "Too many full listings running, try again shortly";

    pub fn new(max: usize, refusal: &'static str) -> Self {
        Self {
            places: Arc::new(Semaphore::new(max)),
            refusal,
        }
    }

    /// A place for one more listing, or the 503 to answer when all are taken.
    pub fn start(&self) -> Result<Listing, Problem> {
        self.places
            .clone()
            .try_acquire_owned()
            .map(|place| Listing { _place: place })
            .map_err(|_| Problem::new(StatusCode::SERVICE_UNAVAILABLE, self.refusal).retry_after(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_leave_the_pool_a_connection() {
        let none = Env::from_pairs([]);
        assert_eq!(max_from_env(&none, 4).ok(), Some(2));
        assert_eq!(max_from_env(&none, 2).ok(), Some(1));
        let three = Env::from_pairs([("DB_MAX_LISTINGS", "3")]);
        assert_eq!(max_from_env(&three, 4).ok(), Some(3));
        let err = max_from_env(&three, 3).err().map(|e| e.var);
        assert_eq!(err.as_deref(), Some("DB_MAX_LISTINGS"));
    }

    #[test]
    fn past_the_bound_a_listing_is_refused_until_one_ends() {
        let listings = Listings::new(2, Listings::REFUSAL);
        let first = listings.start();
        let second = listings.start();
        assert!(first.is_ok() && second.is_ok());
        let refused = listings.start().err();
        assert_eq!(refused.as_ref().map(|p| p.status.as_u16()), Some(503));
        let response = refused.map(Problem::into_response);
        let retry = response
            .as_ref()
            .and_then(|r| r.headers().get(http::header::RETRY_AFTER));
        assert_eq!(retry.map(|v| v.as_bytes()), Some(&b"1"[..]));
        drop(first);
        assert!(listings.start().is_ok());
    }
}
