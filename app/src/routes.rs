//! Every page of the app, defined once: its path, who may open it, and the notices a page can be
//! sent with. The `<Route>`s, every link and redirect, and the server's page guard read this
//! table, so a new page is a new [`Page`] variant and the compiler points at each place that
//! has to know about it.

use crate::api::two_factor::SignedOutElsewhere;
use std::borrow::Cow;

/// A page a person can open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Page {
    SignIn,
    /// The second step of signing in: an authentication or backup code.
    Challenge,
    SignUp,
    /// Every screen and state, with fixtures, for designers.
    Design,
    Account,
    Security,
    /// The two-factor wizard; what it does comes from [`WizardAction`].
    TwoFactorWizard,
}

/// Who may open a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, whatever their session.
    Anyone,
    /// People who are not signed in; a signed-in caller is sent to [`Page::HOME`].
    Visitor,
    /// A caller between the password and the second factor.
    Challenge,
    /// A fully signed-in caller.
    SignedIn,
}

/// How far a caller has signed in: what the page guard decides by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    Visitor,
    /// Password given, second factor pending.
    InChallenge,
    SignedIn,
}

impl Page {
    pub const ALL: [Page; 7] = [
        Page::SignIn,
        Page::Challenge,
        Page::SignUp,
        Page::Design,
        Page::Account,
        Page::Security,
        Page::TwoFactorWizard,
    ];

    /// Where a signed-in person lands (after signing in, from `/`, from a visitor-only page).
    pub const HOME: Page = Page::Account;

    /// How every page is rendered on the server: all its data loaded first, then one document.
    /// Pages arrive complete (readable with JavaScript off or slow, no "Loading…" swapped out
    /// by script), and their data are single small queries, so waiting for them costs little.
    pub const SSR_MODE: leptos_router::SsrMode = leptos_router::SsrMode::Async;

    pub const fn path(self) -> &'static str {
        match self {
            Page::SignIn => "/signin",
            Page::Challenge => "/signin/challenge",
            Page::SignUp => "/signup",
            Page::Design => "/design",
            Page::Account => "/settings/account",
            Page::Security => "/settings/security",
            Page::TwoFactorWizard => "/settings/security/two-factor",
        }
    }

    pub const fn access(self) -> Access {
        match self {
            Page::Design => Access::Anyone,
            Page::SignIn | Page::SignUp => Access::Visitor,
            Page::Challenge => Access::Challenge,
            Page::Account | Page::Security | Page::TwoFactorWizard => Access::SignedIn,
        }
    }

    /// The page at `path` (exactly; one trailing slash allowed).
    pub fn at(path: &str) -> Option<Page> {
        let path = match path.strip_suffix('/') {
            Some(trimmed) if !trimmed.is_empty() => trimmed,
            _ => path,
        };
        Page::ALL.into_iter().find(|page| page.path() == path)
    }

    /// The page's address carrying `notice`.
    pub fn with_notice(self, notice: Notice) -> String {
        format!("{}?{}", self.path(), notice.query())
    }

    /// For `<Route path=…>`: matches exactly this page's path.
    pub const fn route(self) -> PagePath {
        PagePath(self)
    }
}

/// Where a page request goes instead of the page, if anywhere: deny by default, so a caller
/// in the middle of signing in sees nothing but the challenge and the visitor pages (they may
/// start over), and a path that is not a page is not rendered for them either.
pub fn redirect_for(page: Option<Page>, caller: Progress) -> Option<Page> {
    let Some(page) = page else {
        return (caller == Progress::InChallenge).then_some(Page::Challenge);
    };
    match (page.access(), caller) {
        (Access::Anyone, _) => None,
        (Access::Visitor, Progress::SignedIn) => Some(Page::HOME),
        (Access::Visitor, Progress::Visitor | Progress::InChallenge) => None,
        (Access::Challenge, Progress::InChallenge) => None,
        (Access::Challenge, Progress::SignedIn) => Some(Page::HOME),
        (Access::Challenge, Progress::Visitor) => Some(Page::SignIn),
        (Access::SignedIn, Progress::SignedIn) => None,
        (Access::SignedIn, Progress::InChallenge) => Some(Page::Challenge),
        (Access::SignedIn, Progress::Visitor) => Some(Page::SignIn),
    }
}

/// What a page was sent to say, carried in its query string. The one producer (a server
/// function's redirect or the wizard's "back") and the one reader (the page) share this type, so
/// a notice cannot be read without being produced, and nothing else from the address is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    TwoFactorOn(SignedOutElsewhere),
    AuthenticatorReplaced(SignedOutElsewhere),
    BackupCodesRegenerated,
    TwoFactorOff(SignedOutElsewhere),
    BrowserUntrusted,
    /// Signed in with a backup code: the Security page says how many are left.
    SignedInWithBackupCode,
    /// The challenge ended after too many wrong codes: sign in again.
    ChallengeEnded,
    /// The password was changed by a plain form post (script shows it in place instead).
    PasswordChanged {
        other_sessions_signed_out: u64,
    },
}

impl Notice {
    pub fn query(self) -> String {
        let done = |what: &str, signed_out: SignedOutElsewhere| {
            format!(
                "done={what}&others={}&browsers={}",
                signed_out.other_sessions, signed_out.trusted_browsers
            )
        };
        match self {
            Notice::TwoFactorOn(signed_out) => done("enabled", signed_out),
            Notice::AuthenticatorReplaced(signed_out) => done("replaced", signed_out),
            Notice::BackupCodesRegenerated => "done=regenerated".to_owned(),
            Notice::TwoFactorOff(signed_out) => done("disabled", signed_out),
            Notice::BrowserUntrusted => "done=revoked".to_owned(),
            Notice::SignedInWithBackupCode => "signed_in_with=backup_code".to_owned(),
            Notice::ChallengeEnded => "challenge=ended".to_owned(),
            Notice::PasswordChanged {
                other_sessions_signed_out,
            } => format!("done=password&others={other_sessions_signed_out}"),
        }
    }

    /// Reads a notice from a query string's parameters (`get(name)`); `None` for anything this
    /// type did not write.
    pub fn read(get: impl Fn(&str) -> Option<String>) -> Option<Notice> {
        let count = |key: &str| get(key).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
        let signed_out = || SignedOutElsewhere {
            other_sessions: count("others"),
            trusted_browsers: count("browsers"),
        };
        if let Some(done) = get("done") {
            return match done.as_str() {
                "enabled" => Some(Notice::TwoFactorOn(signed_out())),
                "replaced" => Some(Notice::AuthenticatorReplaced(signed_out())),
                "regenerated" => Some(Notice::BackupCodesRegenerated),
                "disabled" => Some(Notice::TwoFactorOff(signed_out())),
                "revoked" => Some(Notice::BrowserUntrusted),
                "password" => Some(Notice::PasswordChanged {
                    other_sessions_signed_out: count("others"),
                }),
                _ => None,
            };
        }
        if get("signed_in_with").as_deref() == Some("backup_code") {
            return Some(Notice::SignedInWithBackupCode);
        }
        if get("challenge").as_deref() == Some("ended") {
            return Some(Notice::ChallengeEnded);
        }
        None
    }
}

/// What the two-factor wizard page is opened to do (`?action=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum WizardAction {
    Enable,
    Replace,
    Regenerate,
    Disable,
}

impl WizardAction {
    /// The query parameter's name; a plain GET form names its hidden field after it.
    pub const PARAMETER: &str = "action";

    pub const fn value(self) -> &'static str {
        match self {
            WizardAction::Enable => "enable",
            WizardAction::Replace => "replace",
            WizardAction::Regenerate => "regenerate",
            WizardAction::Disable => "disable",
        }
    }

    pub const ALL: [WizardAction; 4] = [
        WizardAction::Enable,
        WizardAction::Replace,
        WizardAction::Regenerate,
        WizardAction::Disable,
    ];

    pub fn from_value(value: &str) -> Option<WizardAction> {
        Self::ALL.into_iter().find(|action| action.value() == value)
    }

    pub fn url(self) -> String {
        format!(
            "{}?{}={}",
            Page::TwoFactorWizard.path(),
            Self::PARAMETER,
            self.value()
        )
    }
}

/// A route path matching exactly one [`Page`]'s path, segment by segment (Leptos's `path!`
/// needs a literal; this reads the table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PagePath(Page);

impl PagePath {
    fn segments(self) -> impl Iterator<Item = &'static str> {
        self.0.path().split('/').filter(|s| !s.is_empty())
    }
}

impl leptos_router::PossibleRouteMatch for PagePath {
    fn optional(&self) -> bool {
        false
    }

    fn test<'a>(&self, path: &'a str) -> Option<leptos_router::PartialPathMatch<'a>> {
        let mut remaining = path;
        for segment in self.segments() {
            let rest = remaining.strip_prefix('/')?.strip_prefix(segment)?;
            if !(rest.is_empty() || rest.starts_with('/')) {
                return None;
            }
            remaining = rest;
        }
        let matched = &path[..path.len() - remaining.len()];
        Some(leptos_router::PartialPathMatch::new(
            remaining,
            Vec::new(),
            matched,
        ))
    }

    fn generate_path(&self, path: &mut Vec<leptos_router::PathSegment>) {
        path.extend(
            self.segments()
                .map(|segment| leptos_router::PathSegment::Static(Cow::Borrowed(segment))),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leptos_router::PossibleRouteMatch;

    #[test]
    fn every_page_is_found_at_its_own_path_only() {
        for page in Page::ALL {
            assert_eq!(Page::at(page.path()), Some(page));
            assert_eq!(Page::at(&format!("{}/", page.path())), Some(page));
            assert_eq!(Page::at(&format!("{}x", page.path())), None);
        }
        assert_eq!(Page::at("/"), None);
        assert_eq!(Page::at("/settings"), None);
    }

    #[test]
    fn a_route_matches_its_whole_path_and_nothing_longer_or_shorter() {
        let route = Page::Challenge.route();
        let matched = route.test("/signin/challenge").map(|m| m.is_complete());
        assert_eq!(matched, Some(true));
        assert!(route.test("/signin").is_none());
        assert!(route.test("/signin/challenges").is_none());
        assert_eq!(
            route
                .test("/signin/challenge/more")
                .map(|m| m.is_complete()),
            Some(false)
        );
        let mut segments = Vec::new();
        Page::TwoFactorWizard.route().generate_path(&mut segments);
        assert_eq!(segments.len(), 3);
    }

    #[test]
    fn the_guard_denies_what_the_table_does_not_allow() {
        use Progress::*;
        assert_eq!(
            redirect_for(Some(Page::Account), Visitor),
            Some(Page::SignIn)
        );
        assert_eq!(
            redirect_for(Some(Page::Account), InChallenge),
            Some(Page::Challenge)
        );
        assert_eq!(redirect_for(Some(Page::Account), SignedIn), None);
        assert_eq!(redirect_for(Some(Page::SignIn), SignedIn), Some(Page::HOME));
        assert_eq!(redirect_for(Some(Page::SignIn), InChallenge), None);
        assert_eq!(
            redirect_for(Some(Page::Challenge), Visitor),
            Some(Page::SignIn)
        );
        assert_eq!(
            redirect_for(Some(Page::Challenge), SignedIn),
            Some(Page::HOME)
        );
        assert_eq!(redirect_for(Some(Page::Design), InChallenge), None);
        // Not a page: the not-found page for most, the challenge for a half-signed-in caller.
        assert_eq!(redirect_for(None, Visitor), None);
        assert_eq!(redirect_for(None, SignedIn), None);
        assert_eq!(redirect_for(None, InChallenge), Some(Page::Challenge));
    }

    #[test]
    fn every_notice_reads_back_as_written() {
        let signed_out = SignedOutElsewhere {
            other_sessions: 2,
            trusted_browsers: 1,
        };
        for notice in [
            Notice::TwoFactorOn(signed_out),
            Notice::AuthenticatorReplaced(SignedOutElsewhere::default()),
            Notice::BackupCodesRegenerated,
            Notice::TwoFactorOff(signed_out),
            Notice::BrowserUntrusted,
            Notice::SignedInWithBackupCode,
            Notice::ChallengeEnded,
            Notice::PasswordChanged {
                other_sessions_signed_out: 3,
            },
        ] {
            let query = notice.query();
            let get = |key: &str| {
                query.split('&').find_map(|pair| {
                    let (k, v) = pair.split_once('=')?;
                    (k == key).then(|| v.to_owned())
                })
            };
            assert_eq!(Notice::read(get), Some(notice), "{query}");
        }
    }

    #[test]
    fn unknown_notices_are_not_read() {
        assert_eq!(Notice::read(|_| None), None);
        assert_eq!(
            Notice::read(|k| (k == "done").then(|| "<script>".to_owned())),
            None
        );
    }

    #[test]
    fn wizard_actions_round_trip() {
        for action in WizardAction::ALL {
            assert_eq!(WizardAction::from_value(action.value()), Some(action));
        }
        assert_eq!(
            WizardAction::Regenerate.url(),
            "/settings/security/two-factor?action=regenerate"
        );
    }
}
