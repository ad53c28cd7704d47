//! Where a request came from: a plain value the services pass down to the session list and the
//! security log (repositories included, so it lives below them).

/// Where a request came from, for the session list and the security log.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}
