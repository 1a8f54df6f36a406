//! netspec: test Linux networking with YAML scenarios.
//!
//! A scenario declares nodes (fresh network namespaces), their interfaces, addresses,
//! routes and sysctls, and a list of steps with expected outcomes. netspec builds it
//! over netlink, runs the steps with its own ping and arping, checks each outcome, and
//! tears it down. See the README for the format.
//!
//! ```text
//! // tests/scenarios.rs, with `harness = false` in Cargo.toml:
//! fn main() {
//!     netspec::Harness::new("scenarios").run()
//! }
//! ```

//!
//! Loading and resolving need no privileges:
//!
//! ```
//! let src = "
//! nodes:
//!   a:
//!     interfaces:
//!       eth0: { peer: b:eth0, addresses: [10.0.0.1/24] }
//!   b:
//!     interfaces:
//!       eth0: { addresses: [10.0.0.2/24] }
//! steps:
//!   - ping: { from: a, to: b:eth0 }
//! ";
//! let sc = netspec::load_str("pair.yaml".as_ref(), "pair", src).unwrap();
//! assert_eq!(sc.nodes.len(), 2);
//!
//! let bad = src.replace("b:eth0 }", "c:eth0 }");
//! let err = netspec::load_str("pair.yaml".as_ref(), "pair", &bad).unwrap_err();
//! assert!(err.to_string().contains("unknown node `c`"));
//! ```

mod apply;
#[doc(hidden)]
pub mod bench_support;
mod change;
mod check;
mod cni;
mod error;
mod events;
mod expect;
pub mod explore;
pub mod features;
pub mod formats;
pub mod graph;
mod harness;
mod keep;
pub mod lab;
pub mod leaks;
pub mod mutate;
mod netfilter;
mod netlink;
mod netns;
mod nftlib;
mod nsexec;
mod observation;
mod observe;
mod ownfs;
mod pause;
mod pcapng;
mod plan;
mod privileges;
mod probe;
mod ready;
mod recording;
mod report;
pub mod results;
mod run;
mod sandbox;
pub mod say;
pub mod scenario;
mod scratch;
mod servers;
mod snapshot;
mod state;
mod step;
#[cfg(test)]
mod testing;
mod tool_answer;
pub mod vm;
mod watches;

pub use error::{NlError, Skip};
pub use harness::Harness;
pub use keep::reap;
pub use privileges::{enter_user_namespace_if_needed, missing_privileges};
pub use report::{is_target_dir, target_dir, Failure, Outcome, Report, StepAt, StepOutcome};
pub use run::{run, run_checked, run_file, run_with_hook, RunOptions};
pub use scenario::{load_file, load_str, load_variants, Diagnostic, LoadError, Scenario};
