//! Per-command glue between the command line (`cli`) and the engine modules.

pub mod proxy;
