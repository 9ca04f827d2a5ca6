//! The heroes service.
