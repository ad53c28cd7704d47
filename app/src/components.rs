//! Building blocks shared by the pages and islands: the header, form fields, password feedback
//! and alerts. The two-factor screens' pieces are in [`two_factor`].

pub mod form_post;
pub mod island_data;
pub mod lazy_slot;
pub mod two_factor;

use crate::api::SignOut;
use crate::error::AppError;
use crate::routes::Page;
use crate::validation::{
    CommonPasswordList, CompositionRules, PasswordPolicy, estimate_strength, password_requirements,
};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::components::A;
use std::sync::Arc;

/// The common-password list in the browser: empty until downloaded, then shared by the checks.
pub type CommonList = RwSignal<Option<Arc<CommonPasswordList>>>;

/// The shipped list is served as a static file rather than compiled into the WASM, so it costs
/// nothing until a new password is typed, and is cached after that.
pub fn load_common_passwords(list: CommonList) {
    #[cfg(feature = "hydrate")]
    if list.get_untracked().is_none() {
        leptos::task::spawn_local(async move {
            if let Some(loaded) = fetch_common_passwords().await {
                list.set(Some(Arc::new(loaded)));
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = list;
}

#[cfg(feature = "hydrate")]
async fn fetch_common_passwords() -> Option<CommonPasswordList> {
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
    Some(crate::validation::read_prepared_common_passwords(&text))
}

/// The password policy in force. Pages render on the server only (islands mode), where it comes
/// from the configuration; islands receive it as a prop.
pub fn configured_password_policy() -> PasswordPolicy {
    #[cfg(feature = "ssr")]
    if let Some(state) = use_context::<crate::server::AppState>() {
        return state.settings.password_policy.clone();
    }
    PasswordPolicy::default()
}

/// How long "Don't ask again on this browser" lasts, in days, as configured. Read where pages
/// render (on the server); islands receive it as a prop.
pub fn configured_trusted_browser_days() -> u64 {
    #[cfg(feature = "ssr")]
    if let Some(state) = use_context::<crate::server::AppState>() {
        return state.settings.trusted_browser_lifetime.as_secs() / 86_400;
    }
    30
}

/// "1 day", "30 days".
pub fn days_text(days: u64) -> String {
    if days == 1 {
        "1 day".to_owned()
    } else {
        format!("{days} days")
    }
}

/// The address of the signed-in person, read from the session the request carried (pages render
/// on the server only). No resource and no `<Suspense>`: the header is on every page, and it
/// needs no query of its own.
pub(crate) fn signed_in_email() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        crate::server::context::caller()
            .ok()
            .and_then(|caller| caller.session)
            .map(|session| session.email)
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// Rendered on the server. Signing out is a plain form post, so it works before (and without)
/// the WASM.
#[component]
pub fn SiteHeader() -> impl IntoView {
    let account = signed_in_email().map(|email| {
        view! {
            <form class="site-header__account" method="post" action=SignOut::url()>
                <span class="site-header__email">{email}</span>
                <button type="submit" class="button button--secondary button--small">
                    "Sign out"
                </button>
            </form>
        }
    });
    view! {
        <header class="site-header">
            <A href=Page::HOME.path() attr:class="brand">
                <img src="/favicon.svg" alt="" width="24" height="24" />
                <span>"Keyward"</span>
            </A>
            {account}
        </header>
    }
}

/// The error state of one form island: the server's last answer, whether the person has tried
/// to submit, and the shared validator's verdict on what is typed now.
pub struct FormFeedback<T: Send + Sync + 'static> {
    answer: Signal<Option<Result<T, AppError>>>,
    submitted: RwSignal<bool>,
    verdict: Signal<Option<AppError>>,
}

impl<T: Send + Sync> Clone for FormFeedback<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync> Copy for FormFeedback<T> {}

impl<T: Clone + Send + Sync + 'static> FormFeedback<T> {
    pub fn new(
        answer: impl Into<Signal<Option<Result<T, AppError>>>>,
        validate: impl Fn() -> Option<AppError> + Send + Sync + 'static,
    ) -> Self {
        FormFeedback {
            answer: answer.into(),
            submitted: RwSignal::new(false),
            verdict: Signal::derive(validate),
        }
    }

    /// The message beside `field`: the server's, else the validator's once a submit was tried
    /// (so nobody is scolded for a field they have not finished).
    pub fn field(self, field: &'static str) -> Signal<Option<String>> {
        Signal::derive(move || {
            let server = self
                .answer
                .get()
                .and_then(|r| r.err())
                .and_then(|e| e.message_for(field));
            server.or_else(|| {
                self.submitted
                    .get()
                    .then(|| self.verdict.get()?.message_for(field))
                    .flatten()
            })
        })
    }

    /// An error that belongs to no field, for the alert above the form.
    pub fn failure(self) -> Option<(bool, String)> {
        self.answer
            .get()
            .and_then(|r| r.err())
            .and_then(|e| e.form_message())
            .map(|m| (false, m))
    }

    /// For `on:submit`: records the attempt and says whether the typed values may be sent; when
    /// not, focus moves to the first field marked invalid.
    pub fn ready_to_send(self) -> bool {
        self.submitted.set(true);
        let ready = self.verdict.get_untracked().is_none();
        if !ready {
            focus_first_invalid();
        }
        ready
    }

    /// After a success: the next attempt starts with a clean slate.
    pub fn reset(self) {
        self.submitted.set(false);
    }
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
    /// Called when the field receives focus.
    #[prop(optional, into)]
    on_focus: Option<Callback<()>>,
    #[prop(optional)] autofocus: bool,
    #[prop(optional)] describedby: Option<&'static str>,
    /// e.g. "numeric": the keyboard phones show.
    #[prop(optional)]
    inputmode: Option<&'static str>,
    /// An extra class on the field, e.g. `field--code`.
    #[prop(optional)]
    class: Option<&'static str>,
) -> impl IntoView {
    field(
        Field {
            label,
            name,
            value,
            input_type,
            autocomplete,
            error,
            on_edit,
            on_focus,
            autofocus,
            describedby,
            inputmode,
            class,
        },
        (),
    )
}

/// A new password's field: a [`TextField`] with the live [`PasswordFeedback`] under it. Its own
/// component rather than the feedback as children, which Leptos erases to an `AnyView` whose
/// generic rendering code the pages with this field downloaded (about 10 KB brotli, measured on
/// the sign-up and account pages).
#[component]
pub fn NewPasswordField(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    /// Called on every keystroke (e.g. to clear a stale server error).
    on_edit: Callback<()>,
    /// Called when the field receives focus (e.g. to fetch the common-password list).
    on_focus: Callback<()>,
    /// The feedback's id, which describes the input.
    feedback_id: &'static str,
    /// The account's address: a password containing it is refused.
    #[prop(into)]
    email: Signal<String>,
    policy: PasswordPolicy,
    common: CommonList,
) -> impl IntoView {
    field(
        Field {
            label,
            name,
            value,
            input_type: "password",
            autocomplete: "new-password",
            error,
            on_edit: Some(on_edit),
            on_focus: Some(on_focus),
            autofocus: false,
            describedby: Some(feedback_id),
            inputmode: None,
            class: None,
        },
        view! { <PasswordFeedback id=feedback_id password=value email policy common /> },
    )
}

/// What [`TextField`] and [`NewPasswordField`] have in common.
struct Field {
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    input_type: &'static str,
    autocomplete: &'static str,
    error: Signal<Option<String>>,
    on_edit: Option<Callback<()>>,
    on_focus: Option<Callback<()>>,
    autofocus: bool,
    describedby: Option<&'static str>,
    inputmode: Option<&'static str>,
    class: Option<&'static str>,
}

/// A field's markup, with `under` below the input and its error.
fn field(spec: Field, under: impl IntoView) -> impl IntoView {
    let Field {
        label,
        name,
        value,
        input_type,
        autocomplete,
        error,
        on_edit,
        on_focus,
        autofocus,
        describedby,
        inputmode,
        class,
    } = spec;
    let id = format!("field-{name}");
    #[cfg(feature = "hydrate")]
    if let Some(typed) = typed_before_hydration(&id) {
        value.set(typed);
    }
    let error_id = format!("{id}-error");
    let described = match describedby {
        Some(extra) => format!("{error_id} {extra}"),
        None => error_id.clone(),
    };
    // The starting text as an attribute too, so server-rendered HTML (the design gallery's
    // "typing" states) shows it before any script runs. Never for passwords: they stay out of
    // the markup.
    let initial_value =
        Some(value.get_untracked()).filter(|v| input_type != "password" && !v.is_empty());
    view! {
        <div
            class=format!("field {}", class.unwrap_or_default())
            class:field--invalid=move || error.get().is_some()
        >
            <label for=id.clone()>{label}</label>
            <input
                id=id
                type=input_type
                name=name
                value=initial_value
                inputmode=inputmode
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
            {under}
        </div>
    }
}

/// Live feedback under a new-password field: the policy as a checklist and a strength hint.
#[component]
pub fn PasswordFeedback(
    id: &'static str,
    password: RwSignal<String>,
    #[prop(into)] email: Signal<String>,
    policy: PasswordPolicy,
    common: CommonList,
) -> impl IntoView {
    // Before anything is typed, the checklist states the rule; without composition rules the
    // easiest way to meet it is worth a word.
    let hint = (policy.composition == CompositionRules::None).then_some(
        "Tip: a few unrelated words make a passphrase that is long, strong and easy to \
         remember. Spaces are fine.",
    );
    let requirements = move || {
        password_requirements(&password.get(), Some(&email.get()), &policy, &common.get())
            .into_iter()
            .map(|r| {
                view! {
                    <li class:met=r.met>
                        <span class="checklist__mark" aria-hidden="true">
                            {if r.met { "✓" } else { "○" }}
                        </span>
                        {r.text}
                        <span class="visually-hidden">
                            {if r.met { " (done)" } else { " (not yet)" }}
                        </span>
                    </li>
                }
            })
            .collect_view()
    };
    let strength = move || estimate_strength(&password.get(), &common.get());
    view! {
        <div id=id class="password-feedback">
            {hint.map(|hint| view! { <p class="field__hint">{hint}</p> })}
            <ul class="checklist" aria-label="Password requirements">
                {requirements}
            </ul>
            <div class="strength" class:strength--hidden=move || password.get().is_empty()>
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
        </div>
    }
}

/// The account a form's secret belongs to, for password managers, on a form that asks for a
/// password or a code without asking for the address ("Confirm it's you", change password):
/// without it they cannot tell which saved login to fill or update, and Chromium warns that
/// password forms should have a username field. Hidden, read-only and unnamed, so it is never
/// submitted.
#[component]
pub fn AccountNameField(id: &'static str, account: String) -> impl IntoView {
    view! { <input type="email" id=id autocomplete="username" value=account readonly hidden /> }
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

/// Moves focus to the first text field of the page, once it has been drawn (after a form
/// switches between fields).
pub fn focus_first_input() {
    #[cfg(feature = "hydrate")]
    request_animation_frame(|| {
        use wasm_bindgen::JsCast;
        let field = document()
            .query_selector("main input:not([type=hidden]):not([hidden]):not([type=checkbox])")
            .ok()
            .flatten()
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(field) = field {
            let _ = field.focus();
        }
    });
}

/// Leaves for another page with a full page load (there is no client-side router in islands
/// mode).
pub fn go_to(url: &str) {
    #[cfg(feature = "hydrate")]
    let _ = window().location().set_href(url);
    #[cfg(not(feature = "hydrate"))]
    let _ = url;
}

/// Called by every island once it has hydrated. Lazy islands hydrate after their own WebAssembly
/// chunk arrives, later than the page's main module: when the last island of the page is done,
/// the body gets `data-hydrated` (end-to-end tests wait for it before typing; CSS may use it).
/// Pages without islands are marked by the entry point (`frontend`).
pub fn island_hydrated() {
    #[cfg(feature = "hydrate")]
    {
        // The island's fields are created in this same task: they take over what was typed.
        HYDRATING_ISLAND.set(true);
        request_animation_frame(|| HYDRATING_ISLAND.set(false));
        use std::sync::atomic::{AtomicU32, Ordering};
        static HYDRATED: AtomicU32 = AtomicU32::new(0);
        let done = HYDRATED.fetch_add(1, Ordering::SeqCst) + 1;
        if done >= islands_on_page()
            && let Some(body) = document().body()
        {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    }
}

#[cfg(feature = "hydrate")]
thread_local! {
    /// True while an island is hydrating (from its start to the next frame).
    static HYDRATING_ISLAND: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// What a person typed into the input `id` before its island hydrated, if anything. An island's
/// WebAssembly arrives after the page, so a fast typist (or a slow connection) fills fields that
/// no signal knows of yet; hydrating with the empty signal would wipe them. Only while an island
/// hydrates: a field drawn later starts from its signal.
#[cfg(feature = "hydrate")]
fn typed_before_hydration(id: &str) -> Option<String> {
    input_before_hydration(id)
        .map(|input| input.value())
        .filter(|typed| !typed.is_empty())
}

/// Whether the checkbox `id` is ticked, as the person left it before its island hydrated (see
/// [`typed_before_hydration`]); `default` otherwise (and on the server).
pub fn checked_before_hydration(id: &str, default: bool) -> bool {
    #[cfg(feature = "hydrate")]
    if let Some(input) = input_before_hydration(id) {
        return input.checked();
    }
    let _ = id;
    default
}

/// The input `id` as the page has it, while an island hydrates.
#[cfg(feature = "hydrate")]
fn input_before_hydration(id: &str) -> Option<web_sys::HtmlInputElement> {
    use wasm_bindgen::JsCast;
    if !HYDRATING_ISLAND.get() {
        return None;
    }
    document()
        .get_element_by_id(id)
        .and_then(|el| el.dyn_into::<web_sys::HtmlInputElement>().ok())
}

/// How many islands the page has (`<leptos-island>` elements), hydrated or not.
#[cfg(feature = "hydrate")]
pub fn islands_on_page() -> u32 {
    document()
        .query_selector_all("leptos-island")
        .map_or(0, |list| list.length())
}
