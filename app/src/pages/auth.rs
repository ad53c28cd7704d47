//! Sign-in and sign-up pages. The pages render on the server; the forms are islands, the only
//! parts that ship WebAssembly.

use crate::api::{SignIn, SignUp};
use crate::components::{
    CommonList, FormAlert, PasswordFeedback, TextField, configured_password_policy,
    focus_first_invalid, load_common_passwords, server_field_error,
};
use crate::validation::{PasswordPolicy, validate_sign_in, validate_sign_up};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn SignInPage() -> impl IntoView {
    view! {
        <Title text="Sign in" />
        <section class="card card--narrow" aria-labelledby="signin-title">
            <h1 id="signin-title">"Sign in to Keyward"</h1>
            <SignInForm />
            <p class="card__footer">"New to Keyward? " <A href="/signup">"Create an account"</A></p>
        </section>
    }
}

#[island]
fn SignInForm() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let submitted = RwSignal::new(false);
    let value: Signal<_> = action.value().into();

    let client_errors = move || validate_sign_in(&email.get(), &password.get()).err();
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
    let alert = Signal::derive(move || {
        value
            .get()
            .and_then(|r| r.err())
            .and_then(|e| e.form_message())
            .map(|m| (false, m))
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        if client_errors().is_some() {
            focus_first_invalid();
            return;
        }
        action.dispatch(SignIn {
            email: email.get_untracked(),
            password: password.get_untracked(),
        });
    };
    let clear = Callback::new(move |()| action.clear());

    view! {
        <form method="post" action=SignIn::url() on:submit=on_submit novalidate>
            <FormAlert message=alert />
            <TextField
                label="Email address"
                name="email"
                input_type="email"
                autocomplete="username"
                value=email
                error=field_error("email")
                on_edit=clear
                autofocus=true
            />
            <TextField
                label="Password"
                name="password"
                input_type="password"
                autocomplete="current-password"
                value=password
                error=field_error("password")
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
            <SignUpForm policy=configured_password_policy() />
            <p class="card__footer">"Already have an account? " <A href="/signin">"Sign in"</A></p>
        </section>
    }
}

#[island]
fn SignUpForm(policy: PasswordPolicy) -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let common: CommonList = RwSignal::new(None);
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let submitted = RwSignal::new(false);
    let value: Signal<_> = action.value().into();

    let client_errors = {
        let policy = policy.clone();
        move || {
            validate_sign_up(
                &email.get(),
                &password.get(),
                &confirm.get(),
                &policy,
                &common.get(),
            )
            .err()
        }
    };
    let field_error = {
        let client_errors = client_errors.clone();
        move |field: &'static str| {
            let client_errors = client_errors.clone();
            Signal::derive(move || {
                server_field_error(value, field).or_else(|| {
                    submitted
                        .get()
                        .then(|| client_errors().and_then(|e| e.message_for(field)))
                        .flatten()
                })
            })
        }
    };
    let alert = Signal::derive(move || {
        value
            .get()
            .and_then(|r| r.err())
            .and_then(|e| e.form_message())
            .map(|m| (false, m))
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        if client_errors().is_some() {
            focus_first_invalid();
            return;
        }
        action.dispatch(SignUp {
            email: email.get_untracked(),
            password: password.get_untracked(),
            password_confirm: confirm.get_untracked(),
        });
    };
    let clear = Callback::new(move |()| action.clear());
    let load_list = Callback::new(move |()| load_common_passwords(common));

    view! {
        <form method="post" action=SignUp::url() on:submit=on_submit novalidate>
            <FormAlert message=alert />
            <TextField
                label="Email address"
                name="email"
                input_type="email"
                autocomplete="email"
                value=email
                error=field_error("email")
                on_edit=clear
                autofocus=true
            />
            <TextField
                label="Password"
                name="password"
                input_type="password"
                autocomplete="new-password"
                value=password
                error=field_error("password")
                on_edit=clear
                on_focus=load_list
                describedby="password-feedback"
            >
                <PasswordFeedback
                    id="password-feedback"
                    password=password
                    email=email
                    policy=policy
                    common=common
                />
            </TextField>
            <TextField
                label="Confirm password"
                name="password_confirm"
                input_type="password"
                autocomplete="new-password"
                value=confirm
                error=field_error("password_confirm")
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
