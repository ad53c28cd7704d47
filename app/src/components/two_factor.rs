//! The pieces of the two-factor screens: wizard progress, the three wizard steps, the step-up
//! form and the challenge fields. They take plain values and signals, so the Security island,
//! the challenge island and the design gallery (fixtures, no server) render the same markup.

use crate::api::two_factor::{BackupCodeSet, TotpSetup};
#[cfg(feature = "hydrate")]
use crate::components::lazy_slot::Mounted;
use crate::components::{AccountNameField, FormAlert, TextField};
use crate::error::StepUpProof;
use crate::secret::Secret;
use crate::validation::{ProofKind, SecondFactorProof};
use leptos::either::Either;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;

/// The wizard's steps as shown in the progress indicator.
pub const ENABLE_STEPS: &[&str] = &["Scan", "Verify", "Save codes"];
pub const REPLACE_STEPS: &[&str] = &["Scan", "Verify"];
pub const REGENERATE_STEPS: &[&str] = &["Save codes"];

/// "1 Scan · 2 Verify · 3 Save codes", the current step marked for screen readers.
#[component]
pub fn WizardProgress(steps: &'static [&'static str], current: usize) -> impl IntoView {
    view! {
        <ol class="wizard-progress" aria-label="Setup progress">
            {steps
                .iter()
                .enumerate()
                .map(|(index, name)| {
                    let state = if index < current {
                        "done"
                    } else if index == current {
                        "current"
                    } else {
                        "todo"
                    };
                    view! {
                        <li
                            class=format!("wizard-progress__step wizard-progress__step--{state}")
                            aria-current=(index == current).then_some("step")
                        >
                            <span class="wizard-progress__number" aria-hidden="true">
                                {if index < current { "✓".to_owned() } else { (index + 1).to_string() }}
                            </span>
                            {*name}
                            {(index < current)
                                .then(|| view! { <span class="visually-hidden">" (done)"</span> })}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}

/// A step's heading. It takes focus when the step appears, so keyboard and screen-reader users
/// land on the new step instead of on a button that is gone.
#[component]
fn StepHeading(id: &'static str, text: &'static str) -> impl IntoView {
    let heading = NodeRef::<leptos::html::H3>::new();
    Effect::new(move |_| {
        if let Some(heading) = heading.get() {
            let _ = heading.focus();
        }
    });
    view! {
        <h3 id=id class="wizard__title" tabindex="-1" node_ref=heading>
            {text}
        </h3>
    }
}

/// Step 1: the QR code, and the key to type for those who cannot scan.
#[component]
pub fn ScanStep(
    setup: TotpSetup,
    /// Whether "Can't scan? Enter this key" is open.
    key_shown: RwSignal<bool>,
    copy_status: RwSignal<Option<String>>,
    on_next: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let key_for_copy = setup.manual_key.replace(' ', "");
    view! {
        <section class="wizard__step" aria-labelledby="scan-title">
            <StepHeading id="scan-title" text="Scan the QR code" />
            <p>
                "Open your authenticator app (Google Authenticator, Authy, 1Password, …), add an "
                "account and scan this code."
            </p>
            <div class="scan">
                <img
                    class="scan__qr"
                    src=setup.qr_code
                    alt="QR code for your authenticator app"
                    width="200"
                    height="200"
                    data-testid="totp-qr"
                />
                <div class="scan__manual">
                    <button
                        type="button"
                        class="button button--link"
                        aria-expanded=move || if key_shown.get() { "true" } else { "false" }
                        aria-controls="manual-key-panel"
                        on:click=move |_| key_shown.update(|shown| *shown = !*shown)
                    >
                        "Can't scan? Enter this key"
                    </button>
                    <div id="manual-key-panel" class="scan__key" hidden=move || !key_shown.get()>
                        <p class="muted">
                            "Choose “Enter a setup key”, time-based, and type this key:"
                        </p>
                        <code class="setup-key" data-testid="manual-key">
                            {setup.manual_key.clone()}
                        </code>
                        <button
                            type="button"
                            class="button button--secondary button--small"
                            on:click=move |_| copy_to_clipboard(key_for_copy.clone(), copy_status)
                        >
                            "Copy key"
                        </button>
                        <p class="muted" role="status">
                            {move || copy_status.get()}
                        </p>
                    </div>
                </div>
            </div>
            <div class="wizard__actions">
                <button
                    type="button"
                    class="button button--secondary"
                    on:click=move |_| on_cancel.run(())
                >
                    "Cancel"
                </button>
                <button
                    type="button"
                    class="button button--primary"
                    on:click=move |_| on_next.run(())
                >
                    "Next"
                </button>
            </div>
        </section>
    }
}

/// Step 2: the first code from the app.
#[component]
pub fn VerifyStep(
    code: RwSignal<String>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(into)] busy: Signal<bool>,
    on_verify: Callback<()>,
    on_back: Callback<()>,
    on_cancel: Callback<()>,
    /// Called on every keystroke (to clear a stale server answer).
    on_edit: Callback<()>,
) -> impl IntoView {
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        on_verify.run(());
    };
    view! {
        <section class="wizard__step" aria-labelledby="verify-title">
            <StepHeading id="verify-title" text="Enter the code from your app" />
            <p>"Your app now shows a 6-digit code for Keyward. Enter it to finish linking the app."</p>
            <form on:submit=on_submit novalidate>
                <TextField
                    label="Verification code"
                    name="code"
                    value=code
                    autocomplete="one-time-code"
                    inputmode="numeric"
                    error=error
                    on_edit=on_edit
                    autofocus=true
                    class="field--code"
                />
                <div class="wizard__actions">
                    <button
                        type="button"
                        class="button button--secondary"
                        on:click=move |_| on_cancel.run(())
                    >
                        "Cancel"
                    </button>
                    <button
                        type="button"
                        class="button button--secondary"
                        on:click=move |_| on_back.run(())
                    >
                        "Back"
                    </button>
                    <button type="submit" class="button button--primary" disabled=move || busy.get()>
                        {move || if busy.get() { "Verifying…" } else { "Verify" }}
                    </button>
                </div>
            </form>
        </section>
    }
}

/// Step 3: the backup codes, shown once, to download, copy or print.
#[component]
pub fn SaveCodesStep(
    codes: BackupCodeSet,
    saved: RwSignal<bool>,
    copy_status: RwSignal<Option<String>>,
    on_finish: Callback<()>,
) -> impl IntoView {
    let file_text = codes.file_text();
    let download_href = format!(
        "data:text/plain;charset=utf-8,{}",
        percent_encode(&file_text)
    );
    let all_codes = codes.codes.join("\n");
    view! {
        <section class="wizard__step" aria-labelledby="codes-title">
            <StepHeading id="codes-title" text="Save your backup codes" />
            <p>
                "If you lose your phone, each of these codes signs you in once. Keep them "
                "somewhere safe: they will not be shown again."
            </p>
            <ul class="backup-codes" data-testid="backup-codes" aria-label="Backup codes">
                {codes
                    .codes
                    .iter()
                    .map(|code| view! { <li><code>{code.clone()}</code></li> })
                    .collect_view()}
            </ul>
            <div class="button-row">
                <a
                    class="button button--secondary"
                    href=download_href
                    download=codes.file_name.clone()
                >
                    "Download"
                </a>
                <button
                    type="button"
                    class="button button--secondary"
                    on:click=move |_| copy_to_clipboard(all_codes.clone(), copy_status)
                >
                    "Copy"
                </button>
                <button type="button" class="button button--secondary" on:click=move |_| print()>
                    "Print"
                </button>
            </div>
            <p class="muted" role="status">
                {move || copy_status.get()}
            </p>
            <div class="checkbox">
                <input
                    id="field-codes-saved"
                    type="checkbox"
                    prop:checked=move || saved.get()
                    on:change=move |ev| saved.set(event_target_checked(&ev))
                />
                <label for="field-codes-saved">"I have saved these codes"</label>
            </div>
            <div class="wizard__actions">
                <button
                    type="button"
                    class="button button--primary"
                    disabled=move || !saved.get()
                    on:click=move |_| on_finish.run(())
                >
                    "Finish"
                </button>
            </div>
        </section>
    }
}

/// The 6-digit code from the authenticator app, as the sign-in challenge and the step-up
/// prompt ask for it: phones offer the digits keyboard and the code from an SMS or app.
#[component]
fn AuthenticatorCodeField(
    code: RwSignal<String>,
    error: Signal<Option<String>>,
    on_edit: Callback<()>,
) -> impl IntoView {
    view! {
        <TextField
            label="Authentication code"
            name="code"
            value=code
            autocomplete="one-time-code"
            inputmode="numeric"
            error
            on_edit
            autofocus=true
            class="field--code"
        />
    }
}

/// "Confirm it's you" before a sensitive change. With `StepUpProof::Password` (the account
/// has no second factor) it asks for the password; with `StepUpProof::SecondFactor` for a
/// current code from the authenticator app or, switched by a link as on the challenge page, a
/// backup code, and never for the password alone.
#[component]
pub fn StepUpForm(
    proof: StepUpProof,
    /// The signed-in account's address, for password managers.
    account: String,
    password: RwSignal<String>,
    code: RwSignal<String>,
    /// Whether the backup-code field is showing instead of the app's code.
    use_backup_code: RwSignal<bool>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(into)] busy: Signal<bool>,
    on_confirm: Callback<()>,
    on_cancel: Callback<()>,
    on_edit: Callback<()>,
) -> impl IntoView {
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        on_confirm.run(());
    };
    let switch = move |_| {
        use_backup_code.update(|b| *b = !*b);
        code.set(String::new());
        on_edit.run(());
        crate::components::focus_first_input();
    };
    let explanation = move || match (proof, use_backup_code.get()) {
        (StepUpProof::Password, _) => {
            "You signed in a while ago. Enter your password to make this change."
        }
        (StepUpProof::SecondFactor, true) => {
            "This change needs your second factor. Enter one of your backup codes; it will be \
             used up."
        }
        (StepUpProof::SecondFactor, false) => {
            "This change needs your second factor. Enter the 6-digit code from your \
             authenticator app."
        }
    };
    // Either, not AnyView: type-erased views cost the islands a good deal of WebAssembly.
    let fields = match proof {
        StepUpProof::Password => Either::Left(view! {
            <TextField
                label="Password"
                name="password"
                input_type="password"
                autocomplete="current-password"
                value=password
                error=error
                on_edit=on_edit
                autofocus=true
            />
        }),
        StepUpProof::SecondFactor => Either::Right(view! {
            {move || {
                if use_backup_code.get() {
                    Either::Left(view! { <BackupCodeField code error on_edit /> })
                } else {
                    Either::Right(view! { <AuthenticatorCodeField code error on_edit /> })
                }
            }}
            <p class="step-up__switch">
                <button type="button" class="button button--link" on:click=switch>
                    {move || {
                        if use_backup_code.get() {
                            "Use your authenticator app instead"
                        } else {
                            "Use a backup code instead"
                        }
                    }}
                </button>
            </p>
        }),
    };
    view! {
        <section class="wizard__step" aria-labelledby="step-up-title">
            <StepHeading id="step-up-title" text="Confirm it's you" />
            <p>{explanation}</p>
            <form on:submit=on_submit novalidate>
                <AccountNameField id="step-up-account" account />
                {fields}
                <div class="wizard__actions">
                    <button
                        type="button"
                        class="button button--secondary"
                        on:click=move |_| on_cancel.run(())
                    >
                        "Cancel"
                    </button>
                    <button type="submit" class="button button--primary" disabled=move || busy.get()>
                        {move || if busy.get() { "Confirming…" } else { "Confirm" }}
                    </button>
                </div>
            </form>
        </section>
    }
}

/// What "Confirm it's you" sends, read from its fields by the shared validator; the message
/// for the field when what is typed cannot be right. `Debug` shows no secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepUpAnswer {
    Password(Secret),
    SecondFactor(SecondFactorProof),
}

impl StepUpAnswer {
    pub fn read(
        proof: StepUpProof,
        password: &str,
        code: &str,
        use_backup_code: bool,
    ) -> Result<StepUpAnswer, String> {
        match proof {
            StepUpProof::Password if password.is_empty() => Err("Enter your password.".into()),
            StepUpProof::Password => Ok(StepUpAnswer::Password(Secret::new(password))),
            StepUpProof::SecondFactor => Ok(StepUpAnswer::SecondFactor(SecondFactorProof::read(
                ProofKind::from_use_backup_code(use_backup_code),
                code,
            )?)),
        }
    }

    /// Sends the answer; on success the session's new token is in the browser.
    pub async fn send(self) -> Result<(), crate::error::AppError> {
        use crate::api::two_factor::{ConfirmIdentity, ConfirmIdentityWithCode};
        use crate::components::form_post::call;
        match self {
            StepUpAnswer::Password(password) => call(ConfirmIdentity { password }).await,
            StepUpAnswer::SecondFactor(proof) => {
                call(ConfirmIdentityWithCode {
                    code: Secret::new(proof.code()),
                    use_backup_code: proof.kind() == ProofKind::BackupCode,
                })
                .await
            }
        }
    }
}

/// "Confirm it's you" with its own fields: the answer is read by the shared validator and sent;
/// what is wrong with what was typed is said beside the field, anything else (too many
/// attempts, no connection) above it; `on_passed` runs once the server has accepted it.
/// Mounted with [`mount_step_up_prompt`].
#[component]
pub fn StepUpPrompt(
    proof: StepUpProof,
    /// The signed-in account's address, for password managers.
    account: String,
    on_passed: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let use_backup_code = RwSignal::new(false);
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let alert: RwSignal<Option<(bool, String)>> = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let confirm = Callback::new(move |()| {
        let answer = match StepUpAnswer::read(
            proof,
            &password.get_untracked(),
            &code.get_untracked(),
            use_backup_code.get_untracked(),
        ) {
            Ok(answer) => answer,
            Err(message) => {
                error.set(Some(message));
                return;
            }
        };
        alert.set(None);
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = answer.send().await;
            // Cancelled while the answer was on its way: the prompt is gone, nothing follows.
            if busy.is_disposed() {
                return;
            }
            match result {
                Ok(()) => {
                    // Stays busy until the caller takes it away: one confirmation, one change.
                    password.set(String::new());
                    code.set(String::new());
                    on_passed.run(());
                }
                Err(err) => {
                    busy.set(false);
                    match err
                        .message_for("code")
                        .or_else(|| err.message_for("password"))
                    {
                        Some(message) => error.set(Some(message)),
                        None => alert.set(Some((
                            false,
                            err.message_for("two_factor")
                                .unwrap_or_else(|| err.to_string()),
                        ))),
                    }
                }
            }
        });
    });
    let edited = Callback::new(move |()| {
        error.set(None);
        alert.set(None);
    });
    view! {
        <FormAlert message=alert />
        <StepUpForm
            proof
            account
            password
            code
            use_backup_code
            error
            busy
            on_confirm=confirm
            on_cancel
            on_edit=edited
        />
    }
}

/// Mounts "Confirm it's you" through a [`LazySlot`](crate::components::lazy_slot::LazySlot):
/// its views and the sending of the answer are a chunk of their own, downloaded the first time
/// a change asks for it. Few visits to the account page or a wizard do, so those pages do not
/// download it up front (12 KB brotli of the account page). A failed download is an `Err`, not a
/// panic, which would stop every island of the page.
#[cfg(feature = "hydrate")]
#[leptos::wasm_split::wasm_split(step_up_prompt, wasm_split_path = ::leptos::wasm_split, fallible)]
fn mount_step_up_prompt(
    host: web_sys::HtmlElement,
    props: StepUpPromptProps,
) -> Result<Mounted, leptos::wasm_split::SplitLoaderError> {
    Ok(Mounted::new(leptos::mount::mount_to(host, move || {
        StepUpPrompt(props)
    })))
}

/// Shows "Confirm it's you" in `slot` (the one way islands ask for it). `on_unavailable` runs
/// instead when its code cannot be downloaded; the caller says [`STEP_UP_UNAVAILABLE`].
pub fn show_step_up_prompt(
    slot: crate::components::lazy_slot::LazySlot,
    prompt: StepUpPromptProps,
    on_unavailable: impl FnOnce() + 'static,
) {
    #[cfg(feature = "hydrate")]
    slot.show(
        move |host| mount_step_up_prompt(host, prompt),
        on_unavailable,
    );
    #[cfg(not(feature = "hydrate"))]
    let _ = (slot, prompt, on_unavailable);
}

/// Said when "Confirm it's you" cannot be shown because its code did not download.
pub const STEP_UP_UNAVAILABLE: &str =
    "Couldn't load \"Confirm it's you\". Check your connection and try again.";

/// A backup code, as the sign-in challenge and the step-up prompt ask for it.
#[component]
fn BackupCodeField(
    code: RwSignal<String>,
    error: Signal<Option<String>>,
    on_edit: Callback<()>,
) -> impl IntoView {
    view! {
        <TextField
            label="Backup code"
            name="code"
            value=code
            autocomplete="off"
            error
            on_edit
            autofocus=true
            class="field--code"
        />
    }
}

/// The fields of the sign-in challenge: an app code or a backup code, and "trust this browser".
/// A plain HTML form too, so it works before the WebAssembly has loaded.
#[component]
pub fn ChallengeFields(
    action_url: &'static str,
    /// How long "Don't ask again" lasts, as configured.
    trust_days: u64,
    use_backup_code: RwSignal<bool>,
    code: RwSignal<String>,
    trust_browser: RwSignal<bool>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(into)] alert: Signal<Option<(bool, String)>>,
    #[prop(into)] busy: Signal<bool>,
    on_submit: Callback<SubmitEvent>,
    on_edit: Callback<()>,
) -> impl IntoView {
    let switch = move |_| {
        use_backup_code.update(|b| *b = !*b);
        code.set(String::new());
        on_edit.run(());
        crate::components::focus_first_input();
    };
    view! {
        <form method="post" action=action_url on:submit=move |ev| on_submit.run(ev) novalidate>
            <FormAlert message=alert />
            <input
                type="hidden"
                name="use_backup_code"
                value=move || if use_backup_code.get() { "true" } else { "false" }
            />
            <p class="muted">
                {move || {
                    if use_backup_code.get() {
                        "Enter one of the backup codes you saved when you set up two-factor \
                         authentication. Each code works once."
                    } else {
                        "Open your authenticator app and enter the 6-digit code for Keyward."
                    }
                }}
            </p>
            {move || {
                if use_backup_code.get() {
                    Either::Left(view! { <BackupCodeField code error on_edit /> })
                } else {
                    Either::Right(view! { <AuthenticatorCodeField code error on_edit /> })
                }
            }}
            <div class="checkbox">
                <input
                    id="field-trust_browser"
                    type="checkbox"
                    name="trust_browser"
                    value="true"
                    prop:checked=move || trust_browser.get()
                    on:change=move |ev| trust_browser.set(event_target_checked(&ev))
                />
                <label for="field-trust_browser">
                    {format!(
                        "Don't ask again on this browser for {}",
                        crate::components::days_text(trust_days),
                    )}
                </label>
            </div>
            <button type="submit" class="button button--primary button--block" disabled=move || busy.get()>
                {move || if busy.get() { "Verifying…" } else { "Verify" }}
            </button>
            <p class="challenge__switch">
                <button type="button" class="button button--link" on:click=switch>
                    {move || {
                        if use_backup_code.get() {
                            "Use your authenticator app instead"
                        } else {
                            "Use a backup code instead"
                        }
                    }}
                </button>
            </p>
        </form>
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986), for a `data:` URI.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Copies `text` and says whether it worked (the browser may refuse clipboard access).
pub fn copy_to_clipboard(text: String, status: RwSignal<Option<String>>) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        let promise = window().navigator().clipboard().write_text(&text);
        let copied = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
        status.set(Some(
            if copied {
                "Copied to the clipboard."
            } else {
                "Couldn't copy. Select the text and copy it instead."
            }
            .to_owned(),
        ));
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (text, status);
}

/// Opens the browser's print dialog; the print style sheet shows only the backup codes.
fn print() {
    #[cfg(feature = "hydrate")]
    let _ = window().print();
}

#[cfg(test)]
mod tests {
    use super::percent_encode;

    #[test]
    fn data_uris_carry_text_safely() {
        assert_eq!(percent_encode("a2b3c-d4e5f\n"), "a2b3c-d4e5f%0A");
        assert_eq!(percent_encode("ann@x.com #1"), "ann%40x.com%20%231");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }
}
