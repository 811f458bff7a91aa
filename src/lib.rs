//! wsdeck: a full-screen terminal WebSocket client and session monitor.

pub mod app;
pub mod cli;
pub mod cmd;
pub mod codec;
pub mod config;
pub mod decode;
pub mod files;
pub mod fmt;
pub mod model;
pub mod monitor;
pub mod net;
pub mod openings;
pub mod pipe;
pub mod proxy;
pub mod reach;
pub mod record;
pub mod runtime;
pub mod script;
pub mod server;
pub mod source;
pub mod spec;
pub mod template;
pub mod text;
pub mod tui;
pub mod ui;
pub mod wire;
