//! The fights service.
