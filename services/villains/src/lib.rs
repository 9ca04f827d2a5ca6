//! The villains service.
