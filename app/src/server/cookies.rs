//! The cookies a browser holds: the session, the trusted-browser and the recognised-browser
//! tokens. How they are named, set and found in a `Cookie` header is HTTP, so it lives here, on
//! the web side of the services.

use crate::server::infra::config::Settings;

pub fn cookie_name(settings: &Settings) -> &'static str {
    if settings.secure_cookies() {
        "__Host-keyward_session"
    } else {
        "keyward_session"
    }
}

/// The cookie that marks a browser the person chose to trust ("Don't ask again"). Separate from
/// the session: it outlives sign-outs, and by itself opens nothing.
pub fn trusted_cookie_name(settings: &Settings) -> &'static str {
    if settings.secure_cookies() {
        "__Host-keyward_trusted"
    } else {
        "keyward_trusted"
    }
}

/// The cookie that marks a browser that has signed in to an account before (OWASP "device
/// cookies"): it exempts that browser from the per-account waits on password guessing, and by
/// itself opens nothing.
pub fn recognised_cookie_name(settings: &Settings) -> &'static str {
    if settings.secure_cookies() {
        "__Host-keyward_browser"
    } else {
        "keyward_browser"
    }
}

/// A `Set-Cookie` value. `__Host-` pins the cookie to this host and path `/`; HttpOnly keeps it
/// from scripts; SameSite=Lax keeps it off cross-site posts.
fn cookie(settings: &Settings, name: &str, value: &str, max_age_secs: u64) -> String {
    let secure = if settings.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

/// The `Set-Cookie` value that hands `secret` to the browser.
pub fn session_cookie(settings: &Settings, secret: &str) -> String {
    let max_age = settings.session_absolute_timeout.as_secs();
    cookie(settings, cookie_name(settings), secret, max_age)
}

pub fn clearing_cookie(settings: &Settings) -> String {
    cookie(settings, cookie_name(settings), "", 0)
}

pub fn trusted_browser_cookie(settings: &Settings, secret: &str) -> String {
    let max_age = settings.trusted_browser_lifetime.as_secs();
    cookie(settings, trusted_cookie_name(settings), secret, max_age)
}

pub fn recognised_browser_cookie(settings: &Settings, secret: &str) -> String {
    let max_age = crate::server::sessions::browsers::COOKIE_DAYS * 86_400;
    cookie(settings, recognised_cookie_name(settings), secret, max_age)
}

pub fn clearing_trusted_browser_cookie(settings: &Settings) -> String {
    cookie(settings, trusted_cookie_name(settings), "", 0)
}

/// Finds the session token in a `Cookie` header.
pub fn token_from_cookie_header<'a>(settings: &Settings, header: &'a str) -> Option<&'a str> {
    find_token(cookie_name(settings), header)
}

/// Finds the trusted-browser token in a `Cookie` header.
pub fn trusted_token_from_cookie_header<'a>(
    settings: &Settings,
    header: &'a str,
) -> Option<&'a str> {
    find_token(trusted_cookie_name(settings), header)
}

/// Finds the recognised-browser token in a `Cookie` header.
pub fn recognised_token_from_cookie_header<'a>(
    settings: &Settings,
    header: &'a str,
) -> Option<&'a str> {
    find_token(recognised_cookie_name(settings), header)
}

fn find_token<'a>(name: &str, header: &'a str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| crate::server::primitives::token::looks_valid(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(public_url: &str) -> Settings {
        let table: toml::Table = format!("public_url = \"{public_url}\"").parse().unwrap();
        Settings::from_sources(&table, |_| None).unwrap()
    }

    #[test]
    fn cookie_has_the_host_prefix_and_safe_attributes() {
        let s = settings("https://keyward.example.com");
        let cookie = session_cookie(&s, "abc");
        assert!(cookie.starts_with("__Host-keyward_session=abc; Path=/; HttpOnly; SameSite=Lax"));
        assert!(cookie.ends_with("; Secure"));
        assert!(!cookie.contains("Domain"));
        assert!(clearing_cookie(&s).contains("Max-Age=0"));
        let trusted = trusted_browser_cookie(&s, "abc");
        assert!(trusted.starts_with("__Host-keyward_trusted=abc; Path=/; HttpOnly; SameSite=Lax"));
        assert!(trusted.contains(&format!("Max-Age={}", 30 * 86_400)));
        assert!(trusted.ends_with("; Secure"));
    }

    #[test]
    fn token_is_found_among_other_cookies() {
        let s = settings("http://localhost:3000");
        let secret = crate::server::primitives::token::generate().secret;
        let header = format!("theme=dark; __Host-keyward_session={secret}; other=1");
        assert_eq!(token_from_cookie_header(&s, &header), Some(secret.as_str()));
        assert_eq!(
            token_from_cookie_header(&s, "__Host-keyward_session=short"),
            None
        );
        assert_eq!(token_from_cookie_header(&s, "keyward_session_x=1"), None);
    }
}
