//! Server functions: thin adapters that read the request context, call a service and map the
//! outcome to one `AppError` with the right HTTP status.

#[cfg(feature = "ssr")]
pub mod present;
pub mod two_factor;
#[cfg(feature = "ssr")]
pub mod user_agent;

use crate::error::AppError;
use crate::secret::Secret;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountOverview {
    pub email: String,
    /// e.g. "27 Nov 2026"
    pub member_since: String,
    /// Sessions of this account other than the current one.
    pub other_sessions: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChanged {
    pub other_sessions_signed_out: u64,
}

#[server(output = server_fn::codec::Postcard)]
pub async fn sign_up(
    email: String,
    password: Secret,
    password_confirm: Secret,
) -> Result<(), AppError> {
    use crate::server::{auth::accounts, context};
    context::respond(
        async {
            let state = context::state()?;
            let caller = context::caller()?;
            let signed_in = accounts::sign_up(
                &state,
                accounts::SignUpRequest {
                    email: &email,
                    password: password.expose(),
                    password_confirm: password_confirm.expose(),
                    previous_session: caller.presented_secret.as_ref().map(Secret::expose),
                    browser: &caller.browser,
                    client: &caller.client,
                },
                state.clock.now(),
            )
            .await?;
            context::set_browser_cookies(
                &state.settings,
                signed_in.recognised_browser.as_ref(),
                None,
            )?;
            context::enter_session(&state.settings, &signed_in.session_secret)
        }
        .await,
    )
}

#[server(output = server_fn::codec::Postcard)]
pub async fn sign_in(email: String, password: Secret) -> Result<(), AppError> {
    use crate::server::{auth::accounts, context};
    context::respond(
        async {
            let state = context::state()?;
            let caller = context::caller()?;
            let signed_in = accounts::sign_in(
                &state,
                accounts::SignInRequest {
                    email: &email,
                    password: password.expose(),
                    previous_session: caller.presented_secret.as_ref().map(Secret::expose),
                    browser: &caller.browser,
                    client: &caller.client,
                },
                state.clock.now(),
            )
            .await?;
            if signed_in.needs_second_factor {
                context::set_session_cookie(&state.settings, &signed_in.session_secret)?;
                leptos_axum::redirect(crate::routes::Page::Challenge.path());
                Ok(())
            } else {
                context::set_browser_cookies(
                    &state.settings,
                    signed_in.recognised_browser.as_ref(),
                    signed_in.trusted_browser.as_ref(),
                )?;
                context::enter_session(&state.settings, &signed_in.session_secret)
            }
        }
        .await,
    )
}

#[server(output = server_fn::codec::Postcard)]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::server::{auth::accounts, context, cookies, sessions};
    context::respond(
        async {
            let state = context::state()?;
            let caller = context::caller()?;
            if let Some(session) = &caller.session {
                accounts::sign_out(&state, session, &caller.client, state.clock.now()).await?;
            } else if let Some(secret) = &caller.presented_secret {
                sessions::end(&state.pool, secret.expose()).await?;
            }
            context::set_cookie(&cookies::clearing_cookie(&state.settings))?;
            leptos_axum::redirect(crate::routes::Page::SignIn.path());
            Ok(())
        }
        .await,
    )
}

#[server(output = server_fn::codec::Postcard)]
pub async fn get_account_overview() -> Result<AccountOverview, AppError> {
    use crate::server::{auth::accounts, context};
    context::respond(
        async {
            let state = context::state()?;
            let (session, _) = context::require_session()?;
            let summary = accounts::overview(&state, &session, state.clock.now()).await?;
            Ok(AccountOverview {
                email: summary.email,
                member_since: present::date(summary.member_since)?,
                other_sessions: summary.other_sessions,
            })
        }
        .await,
    )
}

#[server(output = server_fn::codec::Postcard)]
pub async fn change_password(
    current_password: Secret,
    new_password: Secret,
    new_password_confirm: Secret,
    #[server(default)] sign_out_other_sessions: bool,
) -> Result<PasswordChanged, AppError> {
    use crate::server::{auth::accounts, context};
    context::respond(
        async {
            let state = context::state()?;
            let caller = context::caller()?;
            let session = caller.signed_in()?;
            let changed = accounts::change_password(
                &state,
                session,
                accounts::PasswordChange {
                    current_password: current_password.expose(),
                    new_password: new_password.expose(),
                    new_password_confirm: new_password_confirm.expose(),
                    sign_out_other_sessions,
                },
                &caller.browser,
                &caller.client,
                state.clock.now(),
            )
            .await?;
            // The current password was just checked: the session's id changes with it.
            context::set_session_cookie(&state.settings, &changed.session_secret)?;
            if context::native_form_post() {
                // No script to show it in place: the account page says it instead.
                leptos_axum::redirect(&crate::routes::Page::Account.with_notice(
                    crate::routes::Notice::PasswordChanged {
                        other_sessions_signed_out: changed.other_sessions_signed_out,
                    },
                ));
            }
            Ok(PasswordChanged {
                other_sessions_signed_out: changed.other_sessions_signed_out,
            })
        }
        .await,
    )
}
