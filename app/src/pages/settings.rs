//! Settings: a left navigation (Account, Security) and the account page with the password change.
//! Visitors without a session never get here: the server's page guard redirects them.

use crate::api::{self, AccountOverview, ChangePassword};
use crate::components::form_post::FormPost;
use crate::components::island_data::{IslandData, hand_to_island, island_data};
use crate::components::lazy_slot::LazySlot;
use crate::components::two_factor::{STEP_UP_UNAVAILABLE, StepUpPromptProps, show_step_up_prompt};
use crate::components::{
    AccountNameField, CommonList, FormAlert, FormFeedback, NewPasswordField, TextField,
    configured_password_policy, load_common_passwords,
};
use crate::error::AppError;
use crate::routes::{Notice, Page};
use crate::validation::{PasswordPolicy, validate_password_change};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// The frame of every settings page: the navigation, then the page.
#[component]
pub fn SettingsLayout(children: Children) -> impl IntoView {
    view! {
        <div class="settings">
            <nav class="settings__nav" aria-label="Settings">
                <h2 class="settings__nav-title">"Settings"</h2>
                <ul>
                    <li>
                        <A href=Page::Account.path()>"Account"</A>
                    </li>
                    <li>
                        <A href=Page::Security.path()>"Security"</A>
                    </li>
                </ul>
            </nav>
            <div class="settings__content">
                {children()}
            </div>
        </div>
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| api::get_account_overview());
    let policy = configured_password_policy();
    // After a change posted without script; with script the form says it in place.
    let changed = match use_query_map().with_untracked(|q| Notice::read(|key| q.get(key))) {
        Some(Notice::PasswordChanged {
            other_sessions_signed_out,
        }) => Some(password_changed_text(other_sessions_signed_out)),
        _ => None,
    };
    view! {
        <Title text="Account settings" />
        <h1 class="page-title">"Account"</h1>
        {changed
            .map(|text| {
                view! {
                    <div class="alert alert--success" role="status">
                        {text}
                    </div>
                }
            })}
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let policy = policy.clone();
                Suspend::new(async move {
                    match overview.await {
                        Ok(overview) => {
                            let data = PasswordFormData {
                                email: overview.email.clone(),
                                other_sessions: overview.other_sessions,
                                policy,
                            };
                            view! {
                                <AccountFacts overview />
                                {hand_to_island(data)}
                                <ChangePasswordForm />
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
                    }
                })
            }}
        </Suspense>
    }
}

/// "Your password has been changed. 2 other sessions were signed out."
pub fn password_changed_text(other_sessions_signed_out: u64) -> String {
    let others = match other_sessions_signed_out {
        0 => String::new(),
        1 => " 1 other session was signed out.".to_owned(),
        n => format!(" {n} other sessions were signed out."),
    };
    format!("Your password has been changed.{others}")
}

/// The account facts, rendered on the server: nothing in them is interactive. The one that
/// changes in the page, the number of other sessions, is updated by the password form when a
/// change signs them out ([`show_other_sessions`]).
#[component]
fn AccountFacts(overview: AccountOverview) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="account-title">
            <h2 id="account-title">"Your account"</h2>
            <dl class="facts">
                <div>
                    <dt>"Email address"</dt>
                    <dd data-testid="account-email">{overview.email}</dd>
                </div>
                <div>
                    <dt>"Member since"</dt>
                    <dd>{overview.member_since}</dd>
                </div>
                <div>
                    <dt>"Other signed-in sessions"</dt>
                    <dd id=OTHER_SESSIONS_ID data-testid="other-sessions">
                        {overview.other_sessions}
                    </dd>
                </div>
            </dl>
        </section>
    }
}

const OTHER_SESSIONS_ID: &str = "other-sessions";

/// Writes the number of other sessions into the facts card, which is outside the island (an
/// island around the card too would download its views to every visitor of the page: 2 KB
/// brotli, measured, for three lines of text that never change otherwise).
fn show_other_sessions(count: i64) {
    #[cfg(feature = "hydrate")]
    if let Some(element) = document().get_element_by_id(OTHER_SESSIONS_ID) {
        element.set_text_content(Some(&count.to_string()));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = count;
}

/// What the password form needs from the server.
#[derive(Clone, Default, Serialize, Deserialize)]
struct PasswordFormData {
    /// The signed-in account's address, for password managers and the password checks.
    email: String,
    other_sessions: i64,
    policy: PasswordPolicy,
}

impl IslandData for PasswordFormData {
    const ELEMENT_ID: &'static str = "password-form-data";
}

/// "Change password": the current password, the new one with live feedback, and whether to
/// sign out the other sessions; "Confirm it's you" first when the server asks for it.
#[island(lazy)]
fn ChangePasswordForm() -> impl IntoView {
    crate::components::island_hydrated();
    let PasswordFormData {
        email,
        other_sessions,
        policy,
    } = island_data();
    let other_sessions = StoredValue::new(other_sessions);
    let action = FormPost::<ChangePassword>::new();
    let common: CommonList = RwSignal::new(None);
    let account = StoredValue::new(email.clone());
    let email = Signal::stored(email);
    let current = RwSignal::new(String::new());
    let new_password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let sign_out_others = RwSignal::new(crate::components::checked_before_hydration(
        "field-sign_out_other_sessions",
        true,
    ));
    let value = action.value();
    let feedback = {
        let policy = policy.clone();
        FormFeedback::new(value, move || {
            validate_password_change(
                &current.get(),
                &new_password.get(),
                &confirm.get(),
                &email.get(),
                &policy,
                &common.get(),
            )
            .err()
            .map(AppError::from)
        })
    };
    // "Confirm it's you" when the account has a second factor the session has not passed
    // lately: the typed passwords wait in their (hidden) form, and the change is sent again
    // once the prompt is answered.
    let stepping_up = RwSignal::new(false);
    let step_up = LazySlot::new();
    let step_up_unavailable = RwSignal::new(false);
    let alert = Signal::derive(move || match value.get() {
        Some(Ok(done)) => Some((true, password_changed_text(done.other_sessions_signed_out))),
        Some(Err(AppError::StepUpRequired { .. })) => step_up_unavailable
            .get()
            .then(|| (false, STEP_UP_UNAVAILABLE.to_owned())),
        _ => feedback.failure(),
    });
    // A successful change empties the form, so the passwords do not linger in the page.
    Effect::new(move |_| {
        if let Some(Ok(done)) = value.get() {
            current.set(String::new());
            new_password.set(String::new());
            confirm.set(String::new());
            feedback.reset();
            let ended = i64::try_from(done.other_sessions_signed_out).unwrap_or(i64::MAX);
            other_sessions.update_value(|n| *n = n.saturating_sub(ended).max(0));
            show_other_sessions(other_sessions.get_value());
        }
    });
    let send = move || {
        action.send(ChangePassword {
            current_password: current.get_untracked().into(),
            new_password: new_password.get_untracked().into(),
            new_password_confirm: confirm.get_untracked().into(),
            sign_out_other_sessions: sign_out_others.get_untracked(),
        });
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if feedback.ready_to_send() {
            send();
        }
    };
    let passed = Callback::new(move |()| {
        stepping_up.set(false);
        step_up.hide();
        send();
    });
    let cancelled = Callback::new(move |()| {
        stepping_up.set(false);
        step_up.hide();
        action.clear();
    });
    Effect::new(move |_| {
        if let Some(Err(AppError::StepUpRequired { proof })) = value.get() {
            stepping_up.set(true);
            step_up_unavailable.set(false);
            let prompt = StepUpPromptProps {
                proof,
                account: account.get_value(),
                on_passed: passed,
                on_cancel: cancelled,
            };
            // The form comes back as it was, with what was typed, and says why.
            show_step_up_prompt(step_up, prompt, move || {
                stepping_up.set(false);
                step_up_unavailable.set(true);
            });
        }
    });
    let clear = Callback::new(move |()| action.clear());
    let load_list = Callback::new(move |()| load_common_passwords(common));

    view! {
        <section class="card" aria-labelledby="password-title">
            <h2 id="password-title">"Change password"</h2>
            {step_up.view()}
            <form
                method="post"
                action=ChangePassword::url()
                on:submit=on_submit
                novalidate
                hidden=move || stepping_up.get()
            >
                <FormAlert message=alert />
                <AccountNameField id="change-password-account" account=account.get_value() />
                <TextField
                    label="Current password"
                    name="current_password"
                    input_type="password"
                    autocomplete="current-password"
                    value=current
                    error=feedback.field("current_password")
                    on_edit=clear
                />
                <NewPasswordField
                    label="New password"
                    name="new_password"
                    value=new_password
                    error=feedback.field("new_password")
                    on_edit=clear
                    on_focus=load_list
                    feedback_id="new-password-feedback"
                    email=email
                    policy=policy
                    common=common
                />
                <TextField
                    label="Confirm new password"
                    name="new_password_confirm"
                    input_type="password"
                    autocomplete="new-password"
                    value=confirm
                    error=feedback.field("new_password_confirm")
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
