//! Sign-in and sign-up pages. The pages render on the server; the forms are islands, the only
//! parts that ship WebAssembly.

use crate::api::two_factor::AnswerChallenge;
use crate::api::{SignIn, SignUp};
use crate::components::form_post::FormPost;
use crate::components::island_data::{IslandData, hand_to_island, island_data};
use crate::components::two_factor::ChallengeFields;
use crate::components::{
    CommonList, FormAlert, FormFeedback, NewPasswordField, TextField, configured_password_policy,
    configured_trusted_browser_days, load_common_passwords,
};
use crate::routes::{Notice, Page};
use crate::validation::{
    PasswordPolicy, ProofKind, SecondFactorProof, validate_sign_in, validate_sign_up,
};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[component]
pub fn SignInPage() -> impl IntoView {
    let challenge_ended = use_query_map().with_untracked(|q| Notice::read(|key| q.get(key)))
        == Some(Notice::ChallengeEnded);
    view! {
        <Title text="Sign in" />
        <section class="card card--narrow" aria-labelledby="signin-title">
            <h1 id="signin-title">"Sign in to Keyward"</h1>
            {challenge_ended
                .then(|| {
                    view! {
                        <div class="alert alert--danger" role="alert">
                            "Too many wrong codes. Sign in again."
                        </div>
                    }
                })}
            <SignInForm />
            <p class="card__footer">"New to Keyward? " <A href=Page::SignUp.path()>"Create an account"</A></p>
        </section>
    }
}

#[island(lazy)]
fn SignInForm() -> impl IntoView {
    crate::components::island_hydrated();
    let action = FormPost::<SignIn>::new();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let feedback = FormFeedback::new(action.value(), move || {
        validate_sign_in(&email.get(), &password.get())
            .err()
            .map(crate::error::AppError::from)
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if feedback.ready_to_send() {
            action.send(SignIn {
                email: email.get_untracked(),
                password: password.get_untracked().into(),
            });
        }
    };
    let clear = Callback::new(move |()| action.clear());

    view! {
        <form method="post" action=SignIn::url() on:submit=on_submit novalidate>
            <FormAlert message=Signal::derive(move || feedback.failure()) />
            <TextField
                label="Email address"
                name="email"
                input_type="email"
                autocomplete="username"
                value=email
                error=feedback.field("email")
                on_edit=clear
                autofocus=true
            />
            <TextField
                label="Password"
                name="password"
                input_type="password"
                autocomplete="current-password"
                value=password
                error=feedback.field("password")
                on_edit=clear
            />
            <button
                type="submit"
                class="button button--primary button--block"
                disabled=move || action.pending().get()
            >
                {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
            </button>
        </form>
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    view! {
        <Title text="Create your account" />
        <section class="card card--narrow" aria-labelledby="signup-title">
            <h1 id="signup-title">"Create your Keyward account"</h1>
            {hand_to_island(SignUpData {
                policy: configured_password_policy(),
            })}
            <SignUpForm />
            <p class="card__footer">"Already have an account? " <A href=Page::SignIn.path()>"Sign in"</A></p>
        </section>
    }
}

/// What the sign-up form needs from the server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignUpData {
    pub policy: PasswordPolicy,
}

impl IslandData for SignUpData {
    const ELEMENT_ID: &'static str = "sign-up-data";
}

#[island(lazy)]
fn SignUpForm() -> impl IntoView {
    crate::components::island_hydrated();
    let SignUpData { policy } = island_data();
    let action = FormPost::<SignUp>::new();
    let common: CommonList = RwSignal::new(None);
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let feedback = {
        let policy = policy.clone();
        FormFeedback::new(action.value(), move || {
            validate_sign_up(
                &email.get(),
                &password.get(),
                &confirm.get(),
                &policy,
                &common.get(),
            )
            .err()
            .map(crate::error::AppError::from)
        })
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if feedback.ready_to_send() {
            action.send(SignUp {
                email: email.get_untracked(),
                password: password.get_untracked().into(),
                password_confirm: confirm.get_untracked().into(),
            });
        }
    };
    let clear = Callback::new(move |()| action.clear());
    let load_list = Callback::new(move |()| load_common_passwords(common));

    view! {
        <form method="post" action=SignUp::url() on:submit=on_submit novalidate>
            <FormAlert message=Signal::derive(move || feedback.failure()) />
            <TextField
                label="Email address"
                name="email"
                input_type="email"
                autocomplete="email"
                value=email
                error=feedback.field("email")
                on_edit=clear
                autofocus=true
            />
            <NewPasswordField
                label="Password"
                name="password"
                value=password
                error=feedback.field("password")
                on_edit=clear
                on_focus=load_list
                feedback_id="password-feedback"
                email=email
                policy=policy
                common=common
            />
            <TextField
                label="Confirm password"
                name="password_confirm"
                input_type="password"
                autocomplete="new-password"
                value=confirm
                error=feedback.field("password_confirm")
                on_edit=clear
            />
            <button
                type="submit"
                class="button button--primary button--block"
                disabled=move || action.pending().get()
            >
                {move || if action.pending().get() { "Creating account…" } else { "Create account" }}
            </button>
        </form>
    }
}

/// The second step of signing in, for accounts with two-factor authentication. Only a
/// half-authenticated session reaches this page (the server's page guard sees to it).
#[component]
pub fn ChallengePage() -> impl IntoView {
    view! {
        <Title text="Two-factor authentication" />
        <section class="card card--narrow" aria-labelledby="challenge-title">
            <h1 id="challenge-title">"Two-factor authentication"</h1>
            {hand_to_island(ChallengeData {
                trust_days: configured_trusted_browser_days(),
            })}
            <ChallengeForm />
            <form class="card__footer" method="post" action=crate::api::SignOut::url()>
                <button type="submit" class="button button--link">
                    "Cancel and sign in as someone else"
                </button>
            </form>
        </section>
    }
}

/// What the challenge form needs from the server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeData {
    /// How long "Don't ask again on this browser" lasts.
    pub trust_days: u64,
}

impl IslandData for ChallengeData {
    const ELEMENT_ID: &'static str = "challenge-data";
}

#[island(lazy)]
fn ChallengeForm() -> impl IntoView {
    crate::components::island_hydrated();
    let ChallengeData { trust_days } = island_data();
    let action = FormPost::<AnswerChallenge>::new();
    let use_backup_code = RwSignal::new(false);
    let code = RwSignal::new(String::new());
    let trust_browser = RwSignal::new(crate::components::checked_before_hydration(
        "field-trust_browser",
        false,
    ));
    let feedback = FormFeedback::new(action.value(), move || {
        let typed = code.get();
        SecondFactorProof::read(
            ProofKind::from_use_backup_code(use_backup_code.get()),
            &typed,
        )
        .err()
        .map(|message| crate::error::AppError::field("code", message))
    });
    let on_submit = Callback::new(move |ev: SubmitEvent| {
        ev.prevent_default();
        if feedback.ready_to_send() {
            action.send(AnswerChallenge {
                code: code.get_untracked().into(),
                use_backup_code: use_backup_code.get_untracked(),
                trust_browser: trust_browser.get_untracked(),
            });
        }
    });
    let clear = Callback::new(move |()| {
        action.clear();
        feedback.reset();
    });
    view! {
        <ChallengeFields
            action_url=AnswerChallenge::url()
            trust_days
            use_backup_code
            code
            trust_browser
            error=feedback.field("code")
            alert=Signal::derive(move || feedback.failure())
            busy=action.pending()
            on_submit
            on_edit=clear
        />
    }
}
