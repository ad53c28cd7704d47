//! Settings: a left navigation (Account for now) and the account page with the password change.

use crate::api::{self, ChangePassword};
use crate::components::{
    Auth, FormAlert, PasswordFeedback, PasswordRules, TextField, focus_first_invalid,
    load_common_passwords, server_field_error,
};
use crate::error::AppError;
use crate::validation::validate_password_change;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::{A, Outlet, Redirect};

#[component]
pub fn SettingsLayout() -> impl IntoView {
    // The server already redirects signed-out visitors; this covers navigation in the browser
    // (after signing out, or when the session expired while the page was open). It asks the
    // server afresh when the layout mounts: the header's copy of the user may still be the one
    // from before a sign-in that has just navigated here.
    let user = Resource::new(|| (), |_| api::get_current_user());
    let signed_out = move || {
        matches!(
            user.get(),
            Some(Ok(None)) | Some(Err(AppError::Unauthenticated))
        )
    };
    view! {
        <Suspense fallback=|| ()>
            <Show when=signed_out>
                <Redirect path="/signin" />
            </Show>
        </Suspense>
        <div class="settings">
            <nav class="settings__nav" aria-label="Settings">
                <h2 class="settings__nav-title">"Settings"</h2>
                <ul>
                    <li>
                        <A href="/settings/account">"Account"</A>
                    </li>
                </ul>
            </nav>
            <div class="settings__content">
                <Outlet />
            </div>
        </div>
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let overview = Resource::new(
        move || change.version().get(),
        |_| api::get_account_overview(),
    );

    view! {
        <Title text="Account settings" />
        <h1 class="page-title">"Account"</h1>
        <section class="card" aria-labelledby="account-title">
            <h2 id="account-title">"Your account"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    overview
                        .get()
                        .map(|result| match result {
                            Ok(o) => {
                                view! {
                                    <dl class="facts">
                                        <div>
                                            <dt>"Email address"</dt>
                                            <dd data-testid="account-email">{o.email}</dd>
                                        </div>
                                        <div>
                                            <dt>"Member since"</dt>
                                            <dd>{o.member_since}</dd>
                                        </div>
                                        <div>
                                            <dt>"Other signed-in sessions"</dt>
                                            <dd data-testid="other-sessions">{o.other_sessions}</dd>
                                        </div>
                                    </dl>
                                }
                                    .into_any()
                            }
                            Err(e) => {
                                view! {
                                    <p class="alert alert--danger" role="alert">
                                        {e.to_string()}
                                    </p>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
        </section>
        <ChangePasswordCard action=change />
    }
}

#[component]
fn ChangePasswordCard(action: ServerAction<ChangePassword>) -> impl IntoView {
    let rules = expect_context::<PasswordRules>();
    let auth = expect_context::<Auth>();
    let current = RwSignal::new(String::new());
    let new_password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let sign_out_others = RwSignal::new(true);
    let submitted = RwSignal::new(false);
    let value: Signal<_> = action.value().into();
    let email = Signal::derive(move || {
        auth.user
            .get()
            .and_then(Result::ok)
            .flatten()
            .map(|u| u.email)
    });

    let client_errors = move || {
        let common = rules.common.get();
        validate_password_change(
            &current.get(),
            &new_password.get(),
            &confirm.get(),
            &email.get().unwrap_or_default(),
            &rules.current_policy(),
            &common,
        )
        .err()
    };
    let field_error = move |field: &'static str| {
        Signal::derive(move || {
            server_field_error(value, field).or_else(|| {
                submitted
                    .get()
                    .then(|| client_errors().and_then(|e| e.message_for(field)))
                    .flatten()
            })
        })
    };
    let alert = Signal::derive(move || match value.get() {
        Some(Ok(done)) => {
            let others = match done.other_sessions_signed_out {
                0 => String::new(),
                1 => " 1 other session was signed out.".to_owned(),
                n => format!(" {n} other sessions were signed out."),
            };
            Some((true, format!("Your password has been changed.{others}")))
        }
        Some(Err(e)) => e.form_message().map(|m| (false, m)),
        None => None,
    });
    // A successful change empties the form, so the passwords do not linger in the page.
    Effect::new(move |_| {
        if matches!(value.get(), Some(Ok(_))) {
            current.set(String::new());
            new_password.set(String::new());
            confirm.set(String::new());
            submitted.set(false);
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        if client_errors().is_some() {
            focus_first_invalid();
            return;
        }
        action.dispatch(ChangePassword {
            current_password: current.get_untracked(),
            new_password: new_password.get_untracked(),
            new_password_confirm: confirm.get_untracked(),
            sign_out_other_sessions: sign_out_others.get_untracked(),
        });
    };
    let clear = Callback::new(move |()| action.clear());
    let load_list = Callback::new(move |()| load_common_passwords(rules));

    view! {
        <section class="card" aria-labelledby="password-title">
            <h2 id="password-title">"Change password"</h2>
            <form method="post" action=ChangePassword::url() on:submit=on_submit novalidate>
                <FormAlert message=alert />
                <TextField
                    label="Current password"
                    name="current_password"
                    input_type="password"
                    autocomplete="current-password"
                    value=current
                    error=field_error("current_password")
                    on_edit=clear
                />
                <TextField
                    label="New password"
                    name="new_password"
                    input_type="password"
                    autocomplete="new-password"
                    value=new_password
                    error=field_error("new_password")
                    on_edit=clear
                    on_focus=load_list
                    describedby="new-password-feedback"
                >
                    <PasswordFeedback
                        id="new-password-feedback"
                        password=new_password
                        email=email
                    />
                </TextField>
                <TextField
                    label="Confirm new password"
                    name="new_password_confirm"
                    input_type="password"
                    autocomplete="new-password"
                    value=confirm
                    error=field_error("new_password_confirm")
                    on_edit=clear
                />
                <div class="checkbox">
                    <input
                        id="field-sign_out_other_sessions"
                        type="checkbox"
                        name="sign_out_other_sessions"
                        value="true"
                        checked=true
                        prop:checked=move || sign_out_others.get()
                        on:change=move |ev| sign_out_others.set(event_target_checked(&ev))
                    />
                    <label for="field-sign_out_other_sessions">
                        "Sign out of all other sessions"
                    </label>
                </div>
                <button
                    type="submit"
                    class="button button--primary"
                    disabled=move || action.pending().get()
                >
                    {move || if action.pending().get() { "Updating…" } else { "Update password" }}
                </button>
            </form>
        </section>
    }
}
