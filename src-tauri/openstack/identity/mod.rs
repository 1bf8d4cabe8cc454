//! Keystone v3: discovery, authentication, tokens.

pub mod auth;
pub mod discovery;
pub mod projects;
pub mod token;

pub use auth::{authenticate, request_body, AuthMethod, Credentials, Domain, Scope, User};
pub use discovery::discover_v3;
pub use token::Token;
