//! The catalog service.
