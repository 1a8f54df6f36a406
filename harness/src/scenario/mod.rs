//! Scenario files: load (serde), resolve (checks and diagnostics), and the typed model.

mod checks;
mod cni;
mod diag;
mod frames;
mod kernel;
mod matrix;
pub mod model;
mod names;
mod raw;
mod raw_services;
mod resolve;
mod schema;
mod services;
mod spans;
mod steps;
mod values;

pub use diag::{Diagnostic, LoadError};
pub use kernel::{running_release, KernelReq, KernelVersion};
pub use matrix::variant_sources;
pub use model::*;
pub use names::{UniqueNames, FEATURES};
pub use resolve::{load_file, load_str, load_variants, parse_duration, scenario_name, IFNAME_MAX};
pub use schema::schema_json;
pub use spans::Pos;

#[cfg(test)]
mod tests;
