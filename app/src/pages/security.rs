//! Settings → Security: two-factor authentication and trusted browsers.
//!
//! The page itself is server-rendered HTML: its buttons are plain forms (revoking a browser
//! works without WebAssembly). Each two-factor action (turn on, replace, new backup codes, turn
//! off) opens the wizard page, whose one island runs that action and comes back here with what
//! happened. Only the wizard ships WebAssembly, which keeps the bundle small.

use crate::api::two_factor::{
    self as api, RevokeTrustedBrowser, SecurityOverview, SignedOutElsewhere,
};
use crate::components::form_post::call;
use crate::components::island_data::{IslandData, hand_to_island, island_data};
use crate::components::lazy_slot::LazySlot;
use crate::components::two_factor::{
    ENABLE_STEPS, REGENERATE_STEPS, REPLACE_STEPS, STEP_UP_UNAVAILABLE, SaveCodesStep, ScanStep,
    StepUpPromptProps, VerifyStep, WizardProgress, show_step_up_prompt,
};
use crate::components::{FormAlert, configured_trusted_browser_days, days_text, go_to};
use crate::error::AppError;
use crate::flows::two_factor::{Command, Event, Panel, Wizard};
use crate::routes::{Notice, Page, WizardAction};
use crate::validation::OtpCode;
use leptos::either::EitherOf7;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// Backup codes left at which the person is urged to make new ones.
pub const FEW_BACKUP_CODES: i64 = 3;

#[component]
pub fn SecurityPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| api::get_security_overview());
    let received = use_query_map().with_untracked(|q| Notice::read(|key| q.get(key)));
    view! {
        <Title text="Security settings" />
        <h1 class="page-title">"Security"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                Suspend::new(async move {
                    match overview.await {
                        Ok(overview) => {
                            view! { <SecurityCards overview received /> }.into_any()
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

/// The success message for an outcome the Security page was sent back with. Only these known
/// outcomes are shown: nothing from the address is echoed into the page.
pub fn outcome_message(notice: Notice) -> Option<String> {
    Some(match notice {
        Notice::TwoFactorOn(signed_out) => {
            format!(
                "Two-factor authentication is on.{}",
                signed_out_text(signed_out)
            )
        }
        Notice::AuthenticatorReplaced(signed_out) => format!(
            "Your authenticator app has been replaced.{}",
            signed_out_text(signed_out)
        ),
        Notice::BackupCodesRegenerated => {
            "Your new backup codes are ready. The old ones no longer work.".to_owned()
        }
        Notice::TwoFactorOff(signed_out) => {
            format!(
                "Two-factor authentication is off.{}",
                signed_out_text(signed_out)
            )
        }
        Notice::BrowserUntrusted => "The browser is no longer trusted.".to_owned(),
        // Shown beside the backup-code count, or on another page.
        Notice::SignedInWithBackupCode
        | Notice::ChallengeEnded
        | Notice::PasswordChanged { .. } => return None,
    })
}

/// " 2 other sessions were signed out and 1 trusted browser was revoked." (or nothing).
fn signed_out_text(signed_out: SignedOutElsewhere) -> String {
    let count = |n: u64, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one} was")
        } else {
            format!("{n} {many} were")
        }
    };
    let sessions = count(signed_out.other_sessions, "other session", "other sessions");
    let browsers = count(
        signed_out.trusted_browsers,
        "trusted browser",
        "trusted browsers",
    );
    match (signed_out.other_sessions, signed_out.trusted_browsers) {
        (0, 0) => String::new(),
        (_, 0) => format!(" {sessions} signed out."),
        (0, _) => format!(" {browsers} revoked."),
        (_, _) => format!(" {sessions} signed out and {browsers} revoked."),
    }
}

/// A button that opens the wizard for `action`: a plain GET form, so it is a real button that
/// works before (and without) the WebAssembly.
#[component]
fn WizardButton(action: WizardAction, label: &'static str, class: &'static str) -> impl IntoView {
    view! {
        <form class="inline-form" method="get" action=Page::TwoFactorWizard.path()>
            <input type="hidden" name=WizardAction::PARAMETER value=action.value() />
            <button type="submit" class=class>
                {label}
            </button>
        </form>
    }
}

#[component]
fn SecurityCards(overview: SecurityOverview, received: Option<Notice>) -> impl IntoView {
    let success = |text: String| {
        view! {
            <div class="alert alert--success" role="status">
                {text}
            </div>
        }
    };
    // A trusted browser's outcome is told in its own card, every other one in the first.
    let (two_factor_notice, trusted_notice) = match received {
        Some(Notice::BrowserUntrusted) => (None, outcome_message(Notice::BrowserUntrusted)),
        Some(notice) => (outcome_message(notice), None),
        None => (None, None),
    };
    let used_backup_code = received == Some(Notice::SignedInWithBackupCode);
    let used_notice = used_backup_code
        .then(|| overview.two_factor.as_ref().map(|s| s.backup_codes_left))
        .flatten()
        .map(|left| {
            let few = left <= FEW_BACKUP_CODES;
            let codes = if left == 1 { "backup code" } else { "backup codes" };
            view! {
                <div class=if few { "alert alert--warning" } else { "alert alert--success" } role="status">
                    {format!("You signed in with a backup code. {left} {codes} left.")}
                    {few
                        .then(|| {
                            view! {
                                " "
                                <a href=WizardAction::Regenerate.url()>
                                    "Regenerate backup codes"
                                </a>
                            }
                        })}
                </div>
            }
        });
    let trusted_count = overview.trusted_browsers.len();
    let status = match overview.two_factor {
        None => view! {
            <p>
                <span class="badge" data-testid="two-factor-status">
                    "Off"
                </span>
            </p>
            <p>
                "Protect your account with a second step at sign-in: a code from an "
                "authenticator app on your phone, even if someone learns your password. "
                "Turning it on signs out your other sessions."
            </p>
            <WizardButton
                action=WizardAction::Enable
                label="Enable two-factor authentication"
                class="button button--primary"
            />
        }
        .into_any(),
        Some(status) => {
            let low = status.backup_codes_left <= FEW_BACKUP_CODES;
            view! {
                <p>
                    <span class="badge badge--success" data-testid="two-factor-status">
                        "On"
                    </span>
                </p>
                <dl class="facts">
                    <div>
                        <dt>"Authenticator app"</dt>
                        <dd>{format!("Added {}", status.authenticator_added)}</dd>
                    </div>
                    <div>
                        <dt>"Backup codes"</dt>
                        <dd data-testid="backup-codes-left" class:text-warning=low>
                            {format!(
                                "{} of {} left",
                                status.backup_codes_left,
                                status.backup_codes_total,
                            )}
                        </dd>
                    </div>
                    <div>
                        <dt>"Trusted browsers"</dt>
                        <dd>{trusted_count}</dd>
                    </div>
                </dl>
                <div class="button-row">
                    <WizardButton
                        action=WizardAction::Replace
                        label="Replace authenticator"
                        class="button button--secondary"
                    />
                    <WizardButton
                        action=WizardAction::Regenerate
                        label="Regenerate backup codes"
                        class="button button--secondary"
                    />
                    <WizardButton
                        action=WizardAction::Disable
                        label="Turn off two-factor authentication"
                        class="button button--danger"
                    />
                </div>
            }
            .into_any()
        }
    };
    let browsers = overview.trusted_browsers;
    let trusted = if browsers.is_empty() {
        view! { <p>"No trusted browsers."</p> }.into_any()
    } else {
        view! {
            <ul class="item-list">
                {browsers
                    .into_iter()
                    .map(|browser| {
                        view! {
                            <li class="item-list__item">
                                <div>
                                    <strong>{browser.description.clone()}</strong>
                                    {browser
                                        .this_browser
                                        .then(|| view! { <span class="badge">"This browser"</span> })}
                                    <p class="muted">
                                        {format!(
                                            "Trusted since {} · Last used {}",
                                            browser.trusted_since,
                                            browser.last_used,
                                        )}
                                    </p>
                                </div>
                                <form
                                    class="inline-form"
                                    method="post"
                                    action=RevokeTrustedBrowser::url()
                                >
                                    <input type="hidden" name="id" value=browser.id />
                                    <button
                                        type="submit"
                                        class="button button--secondary button--small"
                                        aria-label=format!("Revoke {}", browser.description)
                                    >
                                        "Revoke"
                                    </button>
                                </form>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
            .into_any()
    };
    view! {
        <section class="card" aria-labelledby="two-factor-title">
            <h2 id="two-factor-title">"Two-factor authentication"</h2>
            {two_factor_notice.map(success)}
            {used_notice}
            {status}
        </section>
        <section class="card" aria-labelledby="trusted-title">
            <h2 id="trusted-title">"Trusted browsers"</h2>
            {trusted_notice.map(success)}
            <p class="muted">
                {format!(
                    "Browsers where you chose “Don't ask again” skip the second step for {}. \
                     Changing your password, replacing your authenticator app or turning \
                     two-factor authentication off revokes them all.",
                    days_text(configured_trusted_browser_days()),
                )}
            </p>
            {trusted}
        </section>
    }
}

/// What the wizard page says when script is off (inside `<noscript>`): the one screen that
/// cannot work without it.
#[component]
pub fn ScriptNeeded() -> impl IntoView {
    view! {
        <p class="alert alert--warning">
            "This step needs JavaScript: turn it on for this site and reload the page. "
            "Everything else in Keyward works without it."
        </p>
    }
}

#[component]
pub fn TwoFactorWizardPage() -> impl IntoView {
    let intent = use_query_map().with_untracked(|q| q.get(WizardAction::PARAMETER));
    let intent = intent.as_deref().and_then(WizardAction::from_value);
    view! {
        <Title text="Two-factor authentication" />
        <h1 class="page-title">"Security"</h1>
        <section class="card" aria-labelledby="two-factor-title">
            <h2 id="two-factor-title">"Two-factor authentication"</h2>
            <noscript>
                <ScriptNeeded />
            </noscript>
            {match intent {
                Some(intent) => {
                    let account = crate::components::signed_in_email().unwrap_or_default();
                    view! {
                        {hand_to_island(WizardData { intent, account })}
                        <TwoFactorWizard />
                    }
                        .into_any()
                }
                None => {
                    view! {
                        <p>
                            "Nothing to do here. " <a href=Page::Security.path()>"Back to Security"</a>
                        </p>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// The wizard island's view state beside the machine: what is typed, what is open, what went
/// wrong. All `Copy` handles, so the free functions below can pass it around.
#[derive(Clone, Copy)]
struct WizardUi {
    wizard: RwSignal<Wizard>,
    busy: RwSignal<bool>,
    /// An error about the action as a whole, above the card.
    failure: RwSignal<Option<(bool, String)>>,
    /// An error about what was typed, beside the field.
    field_error: RwSignal<Option<String>>,
    code: RwSignal<String>,
    key_shown: RwSignal<bool>,
    copy_status: RwSignal<Option<String>>,
    saved: RwSignal<bool>,
}

impl WizardUi {
    /// Feeds one event to the machine, resets what the new panel starts without, and runs the
    /// command that comes out.
    fn dispatch(self, event: Event) {
        let scanned = matches!(event, Event::Scanned);
        let before = self.wizard.with_untracked(|w| w.panel().clone());
        let (wizard, command) = self.wizard.get_untracked().next(event);
        if *wizard.panel() != before {
            self.field_error.set(None);
            self.copy_status.set(None);
            match wizard.panel() {
                Panel::Verify(_) if scanned => self.code.set(String::new()),
                Panel::SaveCodes(_) => self.saved.set(false),
                _ => {}
            }
        }
        self.wizard.set(wizard);
        self.perform(command);
    }

    fn perform(self, command: Command) {
        match command {
            Command::Nothing => {}
            Command::Run(action) => {
                self.failure.set(None);
                self.call(async move {
                    match action {
                        WizardAction::Enable | WizardAction::Replace => {
                            call(api::BeginTotpSetup {}).await.map(Event::SetupBegun)
                        }
                        WizardAction::Regenerate => call(api::RegenerateBackupCodes {})
                            .await
                            .map(Event::CodesIssued),
                        WizardAction::Disable => {
                            call(api::DisableTwoFactor {}).await.map(Event::TurnedOff)
                        }
                    }
                });
            }
            Command::ConfirmSetup { factor_id, code } => self.call(async move {
                call(api::ConfirmTotpSetup {
                    factor_id,
                    code: code.digits().into(),
                })
                .await
                .map(Event::SetupConfirmed)
            }),
            Command::CancelSetup => leptos::task::spawn_local(async move {
                // Leaving discards the pending authenticator either way (it also expires).
                let _ = call(api::CancelTotpSetup {}).await;
                leave(None);
            }),
            Command::Leave(notice) => leave(notice),
        }
    }

    /// Makes one server call, busy meanwhile, and feeds its answer back in.
    fn call(self, answer: impl std::future::Future<Output = Result<Event, AppError>> + 'static) {
        self.busy.set(true);
        leptos::task::spawn_local(async move {
            let result = answer.await;
            self.busy.set(false);
            match result {
                Ok(event) => self.dispatch(event),
                Err(AppError::StepUpRequired { proof }) => {
                    self.dispatch(Event::StepUpRequired(proof))
                }
                Err(err) => self.fail(err),
            }
        });
    }

    /// Errors about what was typed go beside the field; anything else above the card.
    fn fail(self, err: AppError) {
        match err.message_for("code") {
            Some(message) => self.field_error.set(Some(message)),
            None => self.failure.set(Some((
                false,
                err.message_for("two_factor")
                    .unwrap_or_else(|| err.to_string()),
            ))),
        }
    }
}

/// Back to the Security page, saying what happened (if anything did).
fn leave(notice: Option<Notice>) {
    match notice {
        Some(notice) => go_to(&Page::Security.with_notice(notice)),
        None => go_to(Page::Security.path()),
    }
}

/// Runs one two-factor action, asking "Confirm it's you" first when the server wants a fresh
/// check, and returns to the Security page with the outcome. The flow is the pure machine of
/// [`crate::flows::two_factor`]; this island renders its panels and runs its commands.
/// What the wizard needs from the server.
#[derive(Clone, Serialize, Deserialize)]
struct WizardData {
    intent: WizardAction,
    /// The signed-in account's address, for password managers at "Confirm it's you".
    account: String,
}

/// Only a fallback for a page bug (see [`IslandData`]): turning two-factor on is the action that
/// changes nothing until the person confirms a code.
impl Default for WizardData {
    fn default() -> Self {
        WizardData {
            intent: WizardAction::Enable,
            account: String::new(),
        }
    }
}

impl IslandData for WizardData {
    const ELEMENT_ID: &'static str = "wizard-data";
}

#[island(lazy)]
fn TwoFactorWizard() -> impl IntoView {
    crate::components::island_hydrated();
    let WizardData { intent, account } = island_data();
    let account = StoredValue::new(account);
    let ui = WizardUi {
        wizard: RwSignal::new(Wizard::start(intent)),
        busy: RwSignal::new(false),
        failure: RwSignal::new(None),
        field_error: RwSignal::new(None),
        code: RwSignal::new(String::new()),
        key_shown: RwSignal::new(false),
        copy_status: RwSignal::new(None),
        saved: RwSignal::new(false),
    };
    // Setting up starts as soon as the page is interactive (it only prepares a new secret).
    Effect::new(move |_| ui.dispatch(Event::Opened));

    let on = move |event: Event| Callback::new(move |()| ui.dispatch(event.clone()));
    let verify = Callback::new(move |()| match OtpCode::parse(&ui.code.get_untracked()) {
        Ok(typed) => ui.dispatch(Event::CodeEntered(typed)),
        Err(message) => ui.field_error.set(Some(message)),
    });
    let clear_field = Callback::new(move |()| ui.field_error.set(None));
    let steps = match intent {
        WizardAction::Replace => REPLACE_STEPS,
        WizardAction::Regenerate => REGENERATE_STEPS,
        WizardAction::Enable | WizardAction::Disable => ENABLE_STEPS,
    };
    // Only a change of panel redraws: a command that leaves the panel as it is (the dialog's
    // confirm, a step-up's retry) keeps focus and typing where they are.
    let panel = Memo::new(move |_| ui.wizard.with(|w| (w.panel().clone(), w.current_step())));
    let (busy, field_error, code) = (ui.busy, ui.field_error, ui.code);

    // The panels exist only in the browser (each needs a server answer first), so they are
    // mounted there rather than hydrated, and each panel is mounted afresh when the panel
    // changes rather than patched into the one before: neither hydration nor update code is
    // compiled for them, which keeps the WebAssembly smaller.
    let body = move |panel: Panel, step: Option<usize>| {
        let progress = step.map(|current| view! { <WizardProgress steps current /> });
        let view = match panel {
            Panel::Working => EitherOf7::A(view! {
                <p class="muted" role="status">
                    {move || if busy.get() { "Working…" } else { "" }}
                </p>
            }),
            // Shown by the step-up slot below (its code is loaded when first needed).
            Panel::StepUp(_) => EitherOf7::B(()),
            Panel::Scan(setup) => EitherOf7::C(view! {
                <ScanStep
                    setup
                    key_shown=ui.key_shown
                    copy_status=ui.copy_status
                    on_next=on(Event::Scanned)
                    on_cancel=on(Event::Cancelled)
                />
            }),
            Panel::Verify(_) => EitherOf7::D(view! {
                <VerifyStep
                    code
                    error=field_error
                    busy
                    on_verify=verify
                    on_back=on(Event::BackToScan)
                    on_cancel=on(Event::Cancelled)
                    on_edit=clear_field
                />
            }),
            Panel::SaveCodes(codes) => EitherOf7::E(view! {
                <SaveCodesStep
                    codes
                    saved=ui.saved
                    copy_status=ui.copy_status
                    on_finish=on(Event::Finished)
                />
            }),
            Panel::ConfirmRegenerate => EitherOf7::F(view! {
                <RegenerateDialog
                    busy
                    on_confirm=on(Event::Confirmed)
                    on_cancel=on(Event::Cancelled)
                />
            }),
            Panel::ConfirmDisable => EitherOf7::G(view! {
                <DisableDialog
                    busy
                    on_confirm=on(Event::Confirmed)
                    on_cancel=on(Event::Cancelled)
                />
            }),
        };
        (progress, view)
    };
    let step_up = LazySlot::new();
    let (passed, cancelled) = (on(Event::StepUpPassed), on(Event::Cancelled));
    Effect::new(move |_| match panel.get().0 {
        Panel::StepUp(proof) => {
            let prompt = StepUpPromptProps {
                proof,
                account: account.get_value(),
                on_passed: passed,
                on_cancel: cancelled,
            };
            show_step_up_prompt(step_up, prompt, move || {
                ui.failure
                    .set(Some((false, STEP_UP_UNAVAILABLE.to_owned())))
            });
        }
        _ => step_up.hide(),
    });
    let host = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        // Mounted under the island's owner (not the effect's), and the handle kept for as long
        // as the island lives: the panels stay alive whatever the effect does.
        let island = Owner::current();
        let mounted = StoredValue::new_local(None::<Box<dyn std::any::Any>>);
        Effect::new(move |_| {
            use wasm_bindgen::JsCast;
            let (panel, step) = panel.get();
            let Some(host) = host.get() else { return };
            // Dropping the panel before takes it out of the page.
            mounted.set_value(None);
            let mount =
                move || leptos::mount::mount_to(host.unchecked_into(), move || body(panel, step));
            // Only `panel` and `host` remount: what the panel reads while it is built is its
            // own business.
            let handle = untrack(|| match &island {
                Some(owner) => owner.with(mount),
                None => mount(),
            });
            mounted.set_value(Some(Box::new(handle)));
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = body;

    view! {
        <FormAlert message=ui.failure />
        {step_up.view()}
        <div node_ref=host></div>
    }
}

/// "Turn off two-factor authentication?" with the consequences spelled out.
#[component]
pub fn DisableDialog(
    #[prop(into)] busy: Signal<bool>,
    on_confirm: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    view! {
        <ConfirmDialog
            title="Turn off two-factor authentication?"
            text="Your authenticator app, backup codes and trusted browsers will be removed, and \
                  your other sessions signed out. Signing in will need only your password."
            confirm="Turn off"
            confirming="Turning off…"
            busy
            on_confirm
            on_cancel
        />
    }
}

/// "Make new backup codes?": the current ones stop working.
#[component]
pub fn RegenerateDialog(
    #[prop(into)] busy: Signal<bool>,
    on_confirm: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    view! {
        <ConfirmDialog
            title="Make new backup codes?"
            text="You will get ten new codes to save. The codes you have now stop working at once."
            confirm="Make new codes"
            confirming="Making codes…"
            busy
            on_confirm
            on_cancel
        />
    }
}

/// A question before a change that cannot be undone. Focus starts on Cancel; Escape cancels.
#[component]
fn ConfirmDialog(
    title: &'static str,
    text: &'static str,
    confirm: &'static str,
    confirming: &'static str,
    busy: Signal<bool>,
    on_confirm: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let cancel = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(button) = cancel.get() {
            let _ = button.focus();
        }
    });
    view! {
        <dialog
            open
            class="confirm-dialog"
            aria-labelledby="confirm-title"
            aria-describedby="confirm-text"
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    on_cancel.run(());
                }
            }
        >
            <h3 id="confirm-title">{title}</h3>
            <p id="confirm-text">{text}</p>
            <div class="wizard__actions">
                <button
                    type="button"
                    class="button button--secondary"
                    node_ref=cancel
                    on:click=move |_| on_cancel.run(())
                >
                    "Cancel"
                </button>
                <button
                    type="button"
                    class="button button--danger"
                    disabled=move || busy.get()
                    on:click=move |_| on_confirm.run(())
                >
                    {move || if busy.get() { confirming } else { confirm }}
                </button>
            </div>
        </dialog>
    }
}
