//! Error types. Each keeps what a caller decides on (the errno, the failing node and
//! operation) and its cause chain (`source()`), rather than only a message. A skip is
//! not an error: it has its own type.

use std::fmt;
use std::io;

/// A netlink request the kernel refused, with the operation and node it came from.
#[derive(Debug)]
pub struct NlError {
    pub op: String,
    pub node: String,
    /// The errno text and the kernel's extended-ack message, if any.
    pub detail: String,
    /// The errno, when the kernel gave one: EOPNOTSUPP means a missing feature.
    pub errno: Option<i32>,
}

impl fmt::Display for NlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "failed to {} in node {}: {}",
            self.op, self.node, self.detail
        )
    }
}

impl std::error::Error for NlError {}

/// A netfilter tool that could not be run, or could not answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ToolError {
    #[error("could not run {tool}: {source}")]
    Start { tool: String, source: io::Error },
    #[error("{tool} ({status}): {stderr}")]
    Failed {
        tool: String,
        status: String,
        stderr: String,
    },
    #[error("nft's JSON listing could not be read: {0}")]
    Json(#[from] serde_json::Error),
}

/// A look at a node's state that could not be made: the netlink dump, a watch's tap,
/// or the netfilter tool. Each keeps its own cause.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ObserveError {
    #[error(transparent)]
    Netlink(#[from] NlError),
    #[error("failed to read the frames of watch {watch} in node {node}: {source}")]
    Watch {
        watch: String,
        node: String,
        source: io::Error,
    },
    #[error("failed to {what} in node {node}: {source}")]
    Netfilter {
        /// `read the netfilter counters`, `list the netfilter ruleset`.
        what: &'static str,
        node: String,
        source: ToolError,
    },
}

/// Building or changing the topology failed.
#[derive(Debug)]
pub(crate) enum ApplyError {
    Namespace {
        node: String,
        source: io::Error,
    },
    Netlink(NlError),
    /// The kernel refused to create a link: EOPNOTSUPP here means it lacks the kind.
    CreateLink(NlError),
    Sysctl {
        node: String,
        key: String,
        value: String,
        source: io::Error,
    },
    NotReady {
        after: std::time::Duration,
        waiting_for: Vec<String>,
    },
    /// A ruleset the netfilter tool refused, with where it is in the scenario.
    Rules {
        node: String,
        /// `file:line` of the refused rule, or of the ruleset.
        at: String,
        message: String,
    },
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApplyError::Namespace { node, source } => {
                write!(f, "failed to create the namespace of node {node}: {source}")
            }
            ApplyError::Netlink(e) | ApplyError::CreateLink(e) => e.fmt(f),
            ApplyError::Sysctl {
                node,
                key,
                value,
                source,
            } => write!(
                f,
                "failed to set sysctl {key}={value} in node {node}: {source}"
            ),
            ApplyError::NotReady { after, waiting_for } => write!(
                f,
                "topology not ready after {after:?}: {}",
                waiting_for.join("; ")
            ),
            ApplyError::Rules { node, at, message } => {
                write!(f, "{at}: node {node} refused the rules: {message}")
            }
        }
    }
}

impl std::error::Error for ApplyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ApplyError::Namespace { source, .. } | ApplyError::Sysctl { source, .. } => {
                Some(source)
            }
            ApplyError::Netlink(e) | ApplyError::CreateLink(e) => Some(e),
            ApplyError::NotReady { .. } | ApplyError::Rules { .. } => None,
        }
    }
}

impl From<NlError> for ApplyError {
    fn from(e: NlError) -> Self {
        ApplyError::Netlink(e)
    }
}

impl ApplyError {
    /// The kernel refused to create a link of a kind it does not have (EOPNOTSUPP):
    /// the scenario needs a missing feature, so it is skipped, not failed. Decided by
    /// the operation's kind and the errno, never by the message.
    pub(crate) fn missing_feature(&self) -> Option<Skip> {
        match self {
            ApplyError::CreateLink(e) if e.errno == Some(libc::EOPNOTSUPP) => Some(Skip {
                reason: format!(
                    "the kernel refused to {} in node {}: {}",
                    e.op, e.node, e.detail
                ),
            }),
            _ => None,
        }
    }
}

/// A scenario that cannot run here: the kernel lacks something it needs. Never a pass,
/// never a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub reason: String,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "skipped: {}", self.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(op: &str, errno: i32) -> NlError {
        NlError {
            op: op.into(),
            node: "n".into(),
            detail: "Operation not supported".into(),
            errno: Some(errno),
        }
    }

    #[test]
    fn only_a_link_the_kernel_cannot_create_is_a_missing_feature() {
        let skip = ApplyError::CreateLink(refused("create vlan v", libc::EOPNOTSUPP))
            .missing_feature()
            .unwrap();
        assert!(
            skip.reason.contains("create vlan v in node n"),
            "{}",
            skip.reason
        );
        assert!(
            ApplyError::CreateLink(refused("create veth a/b", libc::EEXIST))
                .missing_feature()
                .is_none(),
            "another refusal is a failure"
        );
        assert!(
            ApplyError::Netlink(refused("create-ish change", libc::EOPNOTSUPP))
                .missing_feature()
                .is_none(),
            "the words of an operation decide nothing"
        );
    }
}
