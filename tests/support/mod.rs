pub mod lab;
pub mod proxy;
pub mod replay;
