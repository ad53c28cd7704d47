//! Server functions: thin adapters that read the request context, call a service and map the
//! outcome to one `AppError` with the right HTTP status.

#[cfg(feature = "ssr")]
pub mod present;
pub mod two_factor;
#[cfg(feature = "ssr")]
pub mod user_agent;

use crate::components::form_post::FormFields;
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

// The arguments as the fields of each form (`FormFields`: what the islands post).

impl FormFields for SignUp {
    fn fields(self) -> Vec<(&'static str, String)> {
        let SignUp {
            email,
            password,
            password_confirm,
        } = self;
        vec![
            ("email", email),
            ("password", password.expose().to_owned()),
            ("password_confirm", password_confirm.expose().to_owned()),
        ]
    }
}

impl FormFields for SignIn {
    fn fields(self) -> Vec<(&'static str, String)> {
        let SignIn { email, password } = self;
        vec![("email", email), ("password", password.expose().to_owned())]
    }
}

impl FormFields for ChangePassword {
    fn fields(self) -> Vec<(&'static str, String)> {
        let ChangePassword {
            current_password,
            new_password,
            new_password_confirm,
            sign_out_other_sessions,
        } = self;
        vec![
            ("current_password", current_password.expose().to_owned()),
            ("new_password", new_password.expose().to_owned()),
            (
                "new_password_confirm",
                new_password_confirm.expose().to_owned(),
            ),
            (
                "sign_out_other_sessions",
                sign_out_other_sessions.to_string(),
            ),
        ]
    }
}

#[cfg(test)]
mod form_fields_tests {
    use super::two_factor::{
        AnswerChallenge, BeginTotpSetup, CancelTotpSetup, ConfirmIdentity, ConfirmIdentityWithCode,
        ConfirmTotpSetup, DisableTwoFactor, RegenerateBackupCodes,
    };
    use super::*;

    /// What an island posts is what the server function reads: a field per argument, named as
    /// the argument, holding its value.
    fn assert_posted_as_arguments<T: FormFields + Serialize + Clone>(args: T) {
        let arguments = serde_json::to_value(args.clone()).unwrap();
        let arguments = arguments.as_object().unwrap();
        let fields = args.fields();
        assert_eq!(fields.len(), arguments.len(), "{fields:?}");
        for (name, posted) in fields {
            let value = &arguments[name];
            let expected = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            assert_eq!(posted, expected, "{name}");
        }
    }

    #[test]
    fn every_island_posts_its_server_functions_arguments() {
        let secret = |s: &str| Secret::new(s);
        assert_posted_as_arguments(SignIn {
            email: "ann@example.com".into(),
            password: secret("pw"),
        });
        assert_posted_as_arguments(SignUp {
            email: "ann@example.com".into(),
            password: secret("pw"),
            password_confirm: secret("pw2"),
        });
        for sign_out_other_sessions in [true, false] {
            assert_posted_as_arguments(ChangePassword {
                current_password: secret("a"),
                new_password: secret("b"),
                new_password_confirm: secret("c"),
                sign_out_other_sessions,
            });
        }
        assert_posted_as_arguments(ConfirmIdentity {
            password: secret("pw"),
        });
        assert_posted_as_arguments(ConfirmIdentityWithCode {
            code: secret("123456"),
            use_backup_code: true,
        });
        assert_posted_as_arguments(ConfirmTotpSetup {
            factor_id: "f".into(),
            code: secret("123456"),
        });
        assert_posted_as_arguments(AnswerChallenge {
            code: secret("a2b3c-d4e5f"),
            use_backup_code: true,
            trust_browser: false,
        });
        assert_posted_as_arguments(BeginTotpSetup {});
        assert_posted_as_arguments(CancelTotpSetup {});
        assert_posted_as_arguments(RegenerateBackupCodes {});
        assert_posted_as_arguments(DisableTwoFactor {});
    }
}
