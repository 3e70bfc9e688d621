//! placeholder

pub mod fakes;
