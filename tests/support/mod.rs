pub mod lab;
pub mod replay;
