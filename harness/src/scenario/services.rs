//! The typed model of what runs inside nodes: TCP/UDP listeners and clients, commands
//! (`exec`), and netfilter rules with their counters.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use super::spans::Pos;
use super::values::NodeName;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        })
    }
}

/// An echo server in a node, which records the address of every peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    pub node: NodeName,
    pub port: u16,
    pub proto: Proto,
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.node, self.proto, self.port)
    }
}

/// What a `connect` ends in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// TCP: the handshake completed (and the data came back). UDP: the echo came back.
    Connected,
    /// A TCP RST, or for UDP an ICMP port unreachable.
    Refused,
    /// No answer before the timeout: silently dropped.
    Timeout,
    /// Another error from the kernel, by errno.
    Errno(i32),
}

/// Every errno name Linux defines (asm-generic/errno-base.h and errno.h), so a
/// `connect` can expect any error the kernel can give by its name.
pub const ERRNO_NAMES: [(&str, i32); 131] = [
    ("EPERM", libc::EPERM),
    ("ENOENT", libc::ENOENT),
    ("ESRCH", libc::ESRCH),
    ("EINTR", libc::EINTR),
    ("EIO", libc::EIO),
    ("ENXIO", libc::ENXIO),
    ("E2BIG", libc::E2BIG),
    ("ENOEXEC", libc::ENOEXEC),
    ("EBADF", libc::EBADF),
    ("ECHILD", libc::ECHILD),
    ("EAGAIN", libc::EAGAIN),
    ("ENOMEM", libc::ENOMEM),
    ("EACCES", libc::EACCES),
    ("EFAULT", libc::EFAULT),
    ("ENOTBLK", libc::ENOTBLK),
    ("EBUSY", libc::EBUSY),
    ("EEXIST", libc::EEXIST),
    ("EXDEV", libc::EXDEV),
    ("ENODEV", libc::ENODEV),
    ("ENOTDIR", libc::ENOTDIR),
    ("EISDIR", libc::EISDIR),
    ("EINVAL", libc::EINVAL),
    ("ENFILE", libc::ENFILE),
    ("EMFILE", libc::EMFILE),
    ("ENOTTY", libc::ENOTTY),
    ("ETXTBSY", libc::ETXTBSY),
    ("EFBIG", libc::EFBIG),
    ("ENOSPC", libc::ENOSPC),
    ("ESPIPE", libc::ESPIPE),
    ("EROFS", libc::EROFS),
    ("EMLINK", libc::EMLINK),
    ("EPIPE", libc::EPIPE),
    ("EDOM", libc::EDOM),
    ("ERANGE", libc::ERANGE),
    ("EDEADLK", libc::EDEADLK),
    ("ENAMETOOLONG", libc::ENAMETOOLONG),
    ("ENOLCK", libc::ENOLCK),
    ("ENOSYS", libc::ENOSYS),
    ("ENOTEMPTY", libc::ENOTEMPTY),
    ("ELOOP", libc::ELOOP),
    ("ENOMSG", libc::ENOMSG),
    ("EIDRM", libc::EIDRM),
    ("ECHRNG", libc::ECHRNG),
    ("EL2NSYNC", libc::EL2NSYNC),
    ("EL3HLT", libc::EL3HLT),
    ("EL3RST", libc::EL3RST),
    ("ELNRNG", libc::ELNRNG),
    ("EUNATCH", libc::EUNATCH),
    ("ENOCSI", libc::ENOCSI),
    ("EL2HLT", libc::EL2HLT),
    ("EBADE", libc::EBADE),
    ("EBADR", libc::EBADR),
    ("EXFULL", libc::EXFULL),
    ("ENOANO", libc::ENOANO),
    ("EBADRQC", libc::EBADRQC),
    ("EBADSLT", libc::EBADSLT),
    ("EBFONT", libc::EBFONT),
    ("ENOSTR", libc::ENOSTR),
    ("ENODATA", libc::ENODATA),
    ("ETIME", libc::ETIME),
    ("ENOSR", libc::ENOSR),
    ("ENONET", libc::ENONET),
    ("ENOPKG", libc::ENOPKG),
    ("EREMOTE", libc::EREMOTE),
    ("ENOLINK", libc::ENOLINK),
    ("EADV", libc::EADV),
    ("ESRMNT", libc::ESRMNT),
    ("ECOMM", libc::ECOMM),
    ("EPROTO", libc::EPROTO),
    ("EMULTIHOP", libc::EMULTIHOP),
    ("EDOTDOT", libc::EDOTDOT),
    ("EBADMSG", libc::EBADMSG),
    ("EOVERFLOW", libc::EOVERFLOW),
    ("ENOTUNIQ", libc::ENOTUNIQ),
    ("EBADFD", libc::EBADFD),
    ("EREMCHG", libc::EREMCHG),
    ("ELIBACC", libc::ELIBACC),
    ("ELIBBAD", libc::ELIBBAD),
    ("ELIBSCN", libc::ELIBSCN),
    ("ELIBMAX", libc::ELIBMAX),
    ("ELIBEXEC", libc::ELIBEXEC),
    ("EILSEQ", libc::EILSEQ),
    ("ERESTART", libc::ERESTART),
    ("ESTRPIPE", libc::ESTRPIPE),
    ("EUSERS", libc::EUSERS),
    ("ENOTSOCK", libc::ENOTSOCK),
    ("EDESTADDRREQ", libc::EDESTADDRREQ),
    ("EMSGSIZE", libc::EMSGSIZE),
    ("EPROTOTYPE", libc::EPROTOTYPE),
    ("ENOPROTOOPT", libc::ENOPROTOOPT),
    ("EPROTONOSUPPORT", libc::EPROTONOSUPPORT),
    ("ESOCKTNOSUPPORT", libc::ESOCKTNOSUPPORT),
    ("EOPNOTSUPP", libc::EOPNOTSUPP),
    ("EPFNOSUPPORT", libc::EPFNOSUPPORT),
    ("EAFNOSUPPORT", libc::EAFNOSUPPORT),
    ("EADDRINUSE", libc::EADDRINUSE),
    ("EADDRNOTAVAIL", libc::EADDRNOTAVAIL),
    ("ENETDOWN", libc::ENETDOWN),
    ("ENETUNREACH", libc::ENETUNREACH),
    ("ENETRESET", libc::ENETRESET),
    ("ECONNABORTED", libc::ECONNABORTED),
    ("ECONNRESET", libc::ECONNRESET),
    ("ENOBUFS", libc::ENOBUFS),
    ("EISCONN", libc::EISCONN),
    ("ENOTCONN", libc::ENOTCONN),
    ("ESHUTDOWN", libc::ESHUTDOWN),
    ("ETOOMANYREFS", libc::ETOOMANYREFS),
    ("ETIMEDOUT", libc::ETIMEDOUT),
    ("ECONNREFUSED", libc::ECONNREFUSED),
    ("EHOSTDOWN", libc::EHOSTDOWN),
    ("EHOSTUNREACH", libc::EHOSTUNREACH),
    ("EALREADY", libc::EALREADY),
    ("EINPROGRESS", libc::EINPROGRESS),
    ("ESTALE", libc::ESTALE),
    ("EUCLEAN", libc::EUCLEAN),
    ("ENOTNAM", libc::ENOTNAM),
    ("ENAVAIL", libc::ENAVAIL),
    ("EISNAM", libc::EISNAM),
    ("EREMOTEIO", libc::EREMOTEIO),
    ("EDQUOT", libc::EDQUOT),
    ("ENOMEDIUM", libc::ENOMEDIUM),
    ("EMEDIUMTYPE", libc::EMEDIUMTYPE),
    ("ECANCELED", libc::ECANCELED),
    ("ENOKEY", libc::ENOKEY),
    ("EKEYEXPIRED", libc::EKEYEXPIRED),
    ("EKEYREVOKED", libc::EKEYREVOKED),
    ("EKEYREJECTED", libc::EKEYREJECTED),
    ("EOWNERDEAD", libc::EOWNERDEAD),
    ("ENOTRECOVERABLE", libc::ENOTRECOVERABLE),
    ("ERFKILL", libc::ERFKILL),
    ("EHWPOISON", libc::EHWPOISON),
];

/// The errno's name, if Linux names it.
pub fn errno_name(e: i32) -> Option<&'static str> {
    ERRNO_NAMES
        .iter()
        .find(|(_, n)| *n == e)
        .map(|(name, _)| *name)
}

impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Connection::Connected => f.write_str("connected"),
            Connection::Refused => f.write_str("refused"),
            Connection::Timeout => f.write_str("timeout"),
            Connection::Errno(e) => match errno_name(*e) {
                Some(name) => f.write_str(name),
                None => write!(f, "errno {e} ({})", std::io::Error::from_raw_os_error(*e)),
            },
        }
    }
}

/// The source address (and port) a listener must have seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub addr: IpAddr,
    pub port: Option<u16>,
    /// As written.
    pub label: String,
}

#[derive(Debug, Clone)]
pub struct Connect {
    pub from: NodeName,
    pub to: IpAddr,
    pub to_label: String,
    pub port: u16,
    pub proto: Proto,
    /// Bytes sent after the handshake, which must come back unchanged.
    pub send: u32,
    pub timeout: Duration,
    pub expect: Connection,
    pub peer: Option<Peer>,
    pub trace: Option<Trace>,
}

/// How a command's output is judged.
#[derive(Debug, Clone)]
pub enum TextMatch {
    /// Equal, ignoring trailing whitespace.
    Equals(String),
    Contains(String),
    Regex(regex::Regex),
}

impl TextMatch {
    pub fn matches(&self, text: &str) -> bool {
        match self {
            TextMatch::Equals(t) => text.trim_end() == t.trim_end(),
            TextMatch::Contains(t) => text.contains(t.as_str()),
            TextMatch::Regex(r) => r.is_match(text),
        }
    }
}

impl fmt::Display for TextMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextMatch::Equals(t) => write!(f, "{t:?}"),
            TextMatch::Contains(t) => write!(f, "containing {t:?}"),
            TextMatch::Regex(r) => write!(f, "matching /{}/", r.as_str()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Exec {
    pub node: NodeName,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Started and left running until teardown.
    pub background: bool,
    pub exit: Option<i32>,
    pub stdout: Option<TextMatch>,
    pub stderr: Option<TextMatch>,
}

/// Which tool loads a ruleset, and so which syntax it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleTool {
    /// `nft -f -`: nftables syntax.
    Nft,
    /// `iptables-restore`: iptables-save syntax.
    Iptables,
    Ip6tables,
}

impl RuleTool {
    pub fn key(self) -> &'static str {
        match self {
            RuleTool::Nft => "nftables",
            RuleTool::Iptables => "iptables",
            RuleTool::Ip6tables => "ip6tables",
        }
    }

    /// The program and its arguments; `add` keeps the rules already loaded.
    pub fn argv(self, add: bool) -> Vec<&'static str> {
        match (self, add) {
            (RuleTool::Nft, _) => vec!["nft", "-f", "-"],
            (RuleTool::Iptables, false) => vec!["iptables-restore", "-w"],
            (RuleTool::Iptables, true) => vec!["iptables-restore", "-w", "--noflush"],
            (RuleTool::Ip6tables, false) => vec!["ip6tables-restore", "-w"],
            (RuleTool::Ip6tables, true) => vec!["ip6tables-restore", "-w", "--noflush"],
        }
    }

    /// The Debian package that has the tool, for the skip message.
    pub fn package(self) -> &'static str {
        match self {
            RuleTool::Nft => "nftables",
            RuleTool::Iptables | RuleTool::Ip6tables => "iptables",
        }
    }
}

/// A ruleset as written in the scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub tool: RuleTool,
    pub text: String,
    /// The YAML line of the ruleset's first line, to point at a refused rule.
    pub first_line: usize,
    pub pos: Pos,
}

impl Rules {
    /// The YAML line of the ruleset's `n`th line (1-based).
    pub fn yaml_line(&self, n: usize) -> usize {
        self.first_line + n.saturating_sub(1)
    }
}

/// What a counter check reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CounterRef {
    /// The rule with this comment (nft `comment "X"`, iptables `-m comment --comment X`).
    Rule(String),
    /// An iptables built-in chain's policy counter: table and chain.
    Policy { table: String, chain: String },
}

impl fmt::Display for CounterRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CounterRef::Rule(c) => write!(f, "rule {c:?}"),
            CounterRef::Policy { table, chain } => write!(f, "policy of {table} {chain}"),
        }
    }
}

/// `trace:` on a probe: the packets that NFLOG rules in `node` logged during the step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    pub node: NodeName,
    pub group: u16,
    /// Lines that must be logged, in this order, each given as words that the logged
    /// line must all have: `raw-pre: IN=docker0 PHYSIN=veth1 TYPE=8`.
    pub expect: Vec<String>,
}
