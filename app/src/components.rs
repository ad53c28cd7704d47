//! Building blocks shared by the pages: the auth context, the header, form fields and alerts.

use crate::api::{self, CurrentUser, SignIn, SignOut, SignUp};
use crate::error::AppError;
use crate::validation::{
    CommonPasswords, PasswordPolicy, estimate_strength, password_requirements,
};
use leptos::prelude::*;
use leptos_router::components::A;
use std::collections::HashSet;
use std::sync::Arc;

/// The sign-in state of the page, shared by the header and the pages.
#[derive(Clone, Copy)]
pub struct Auth {
    pub sign_in: ServerAction<SignIn>,
    pub sign_up: ServerAction<SignUp>,
    pub sign_out: ServerAction<SignOut>,
    /// Refetched whenever one of the actions above completes.
    pub user: Resource<Result<Option<CurrentUser>, AppError>>,
}

pub fn provide_auth() {
    let sign_in = ServerAction::<SignIn>::new();
    let sign_up = ServerAction::<SignUp>::new();
    let sign_out = ServerAction::<SignOut>::new();
    let user = Resource::new(
        move || {
            (
                sign_in.version().get(),
                sign_up.version().get(),
                sign_out.version().get(),
            )
        },
        |_| api::get_current_user(),
    );
    provide_context(Auth {
        sign_in,
        sign_up,
        sign_out,
        user,
    });
}

/// What forms need to judge a new password exactly as the server will.
#[derive(Clone, Copy)]
pub struct PasswordRules {
    pub policy: Resource<Result<PasswordPolicy, AppError>>,
    /// The common-password list, downloaded the first time someone types a new password.
    pub common: RwSignal<Option<Arc<HashSet<String>>>>,
}

impl PasswordRules {
    pub fn current_policy(&self) -> PasswordPolicy {
        self.policy.get().and_then(Result::ok).unwrap_or_default()
    }
}

pub fn provide_password_rules() {
    provide_context(PasswordRules {
        policy: Resource::new(|| (), |_| api::get_password_policy()),
        common: RwSignal::new(None),
    });
}

/// The shipped list is served as a static file rather than compiled into the WASM, so it costs
/// nothing until a new password is typed, and is cached after that.
pub fn load_common_passwords(rules: PasswordRules) {
    #[cfg(feature = "hydrate")]
    if rules.common.get_untracked().is_none() {
        leptos::task::spawn_local(async move {
            if let Some(list) = fetch_common_passwords().await {
                rules.common.set(Some(Arc::new(list)));
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = rules;
}

#[cfg(feature = "hydrate")]
async fn fetch_common_passwords() -> Option<HashSet<String>> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let window = web_sys::window()?;
    let response: web_sys::Response =
        JsFuture::from(window.fetch_with_str("/common-passwords.txt"))
            .await
            .ok()?
            .dyn_into()
            .ok()?;
    if !response.ok() {
        return None;
    }
    let text = JsFuture::from(response.text().ok()?)
        .await
        .ok()?
        .as_string()?;
    Some(crate::validation::parse_common_passwords(&text))
}

#[component]
pub fn SiteHeader() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let signed_in_user = move || auth.user.get().and_then(Result::ok).flatten();
    view! {
        <header class="site-header">
            <A href="/settings/account" attr:class="brand">
                <img src="/favicon.svg" alt="" width="24" height="24" />
                <span>"Keyward"</span>
            </A>
            <Transition fallback=|| ()>
                {move || {
                    signed_in_user()
                        .map(|user| {
                            view! {
                                <div class="site-header__account">
                                    <span class="site-header__email">{user.email}</span>
                                    <button
                                        type="button"
                                        class="button button--secondary button--small"
                                        on:click=move |_| {
                                            auth.sign_out.dispatch(SignOut {});
                                        }
                                        disabled=move || auth.sign_out.pending().get()
                                    >
                                        "Sign out"
                                    </button>
                                </div>
                            }
                        })
                }}
            </Transition>
        </header>
    }
}

/// The message of a server error for one field, if the last submission produced one.
pub fn server_field_error<T: Clone + Send + Sync + 'static>(
    value: Signal<Option<Result<T, AppError>>>,
    field: &'static str,
) -> Option<String> {
    value
        .get()
        .and_then(|r| r.err())
        .and_then(|e| e.message_for(field))
}

/// A labelled input with its error announced to screen readers.
#[component]
pub fn TextField(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(into)] error: Signal<Option<String>>,
    /// Called on every keystroke (e.g. to clear a stale server error).
    #[prop(optional, into)]
    on_edit: Option<Callback<()>>,
    /// Called when the field first receives focus.
    #[prop(optional, into)]
    on_focus: Option<Callback<()>>,
    #[prop(optional)] autofocus: bool,
    #[prop(optional)] describedby: Option<&'static str>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let described = match describedby {
        Some(extra) => format!("{error_id} {extra}"),
        None => error_id.clone(),
    };
    view! {
        <div class="field" class:field--invalid=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                type=input_type
                name=name
                autocomplete=autocomplete
                autofocus=autofocus
                prop:value=move || value.get()
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    if let Some(cb) = on_edit {
                        cb.run(());
                    }
                }
                on:focus=move |_| {
                    if let Some(cb) = on_focus {
                        cb.run(());
                    }
                }
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                aria-describedby=described
            />
            <p id=error_id class="field__error" aria-live="polite">
                {move || error.get()}
            </p>
            {children.map(|c| c())}
        </div>
    }
}

/// Live feedback under a new-password field: the policy as a checklist and a strength hint.
#[component]
pub fn PasswordFeedback(
    id: &'static str,
    password: RwSignal<String>,
    #[prop(into)] email: Signal<Option<String>>,
) -> impl IntoView {
    let rules = expect_context::<PasswordRules>();
    let requirements = move || {
        let common = rules.common.get();
        password_requirements(
            &password.get(),
            email.get().as_deref(),
            &rules.current_policy(),
            &common,
        )
    };
    let strength = move || estimate_strength(&password.get(), &rules.common.get());
    view! {
        <div id=id class="password-feedback">
            <ul class="checklist" aria-label="Password requirements">
                <For
                    each=requirements
                    key=|r| (r.text.clone(), r.met)
                    children=|r| {
                        view! {
                            <li class:met=r.met>
                                <span class="checklist__mark" aria-hidden="true">
                                    {if r.met { "✓" } else { "○" }}
                                </span>
                                {r.text.clone()}
                                <span class="visually-hidden">
                                    {if r.met { " (done)" } else { " (not yet)" }}
                                </span>
                            </li>
                        }
                    }
                />
            </ul>
            <Show when=move || !password.get().is_empty()>
                <div class="strength" data-strength=move || strength().score()>
                    <meter
                        min="0"
                        max="4"
                        low="2"
                        high="3"
                        optimum="4"
                        value=move || strength().score()
                        aria-label="Password strength"
                    ></meter>
                    <p class="strength__text">
                        <strong>{move || strength().label()}</strong>
                        ". "
                        {move || strength().advice()}
                    </p>
                </div>
            </Show>
        </div>
    }
}

impl<T: CommonPasswords> CommonPasswords for Option<Arc<T>> {
    fn contains(&self, candidate: &str) -> bool {
        self.as_ref().is_some_and(|list| list.contains(candidate))
    }
}

/// A message above a form: an error (`role="alert"`) or a success (`role="status"`).
#[component]
pub fn FormAlert(#[prop(into)] message: Signal<Option<(bool, String)>>) -> impl IntoView {
    move || {
        message.get().map(|(ok, text)| {
            let (class, role) = if ok {
                ("alert alert--success", "status")
            } else {
                ("alert alert--danger", "alert")
            };
            view! {
                <div class=class role=role>
                    {text}
                </div>
            }
        })
    }
}

/// Moves focus to the first field marked invalid, once the marks have been drawn.
pub fn focus_first_invalid() {
    #[cfg(feature = "hydrate")]
    request_animation_frame(|| {
        use wasm_bindgen::JsCast;
        let field = document()
            .query_selector("[aria-invalid=true]")
            .ok()
            .flatten()
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(field) = field {
            let _ = field.focus();
        }
    });
}
