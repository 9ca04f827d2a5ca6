//! The locations service.
