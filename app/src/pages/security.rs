//! Settings → Security: two-factor authentication (the setup wizard, backup codes, turning it
//! off) and trusted browsers. The page renders on the server; the island runs the wizard, with
//! the state that matters (pending secret, codes, counters) kept on the server.

use crate::api::two_factor::{
    self as api, BackupCodeSet, SecurityOverview, TotpSetup, USED_BACKUP_CODE_QUERY,
};
use crate::components::two_factor::{
    ENABLE_STEPS, REGENERATE_STEPS, REPLACE_STEPS, SaveCodesStep, ScanStep, StepUpForm, VerifyStep,
    WizardProgress,
};
use crate::error::AppError;
use crate::validation::normalize_otp;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Backup codes left at which the person is urged to make new ones.
pub const FEW_BACKUP_CODES: i64 = 3;

#[component]
pub fn SecurityPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| api::get_security_overview());
    let query = use_query_map();
    let used_backup_code = query.with_untracked(|q| {
        USED_BACKUP_CODE_QUERY
            .split_once('=')
            .is_some_and(|(key, value)| q.get(key).as_deref() == Some(value))
    });
    view! {
        <Title text="Security settings" />
        <h1 class="page-title">"Security"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! { <SecuritySettings overview used_backup_code /> }.into_any(),
                    Err(e) => {
                        view! {
                            <p class="alert alert--danger" role="alert">
                                {e.to_string()}
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// What the person set out to do; kept while a step-up check interrupts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Intent {
    Enable,
    Replace,
    Regenerate,
    Disable,
}

#[derive(Clone, Debug, PartialEq)]
enum Panel {
    Summary,
    StepUp(Intent),
    Scan(TotpSetup),
    Verify(TotpSetup),
    SaveCodes(BackupCodeSet, &'static [&'static str]),
    ConfirmDisable,
}

#[island]
fn SecuritySettings(overview: SecurityOverview, used_backup_code: bool) -> impl IntoView {
    let email = overview.email.clone();
    let overview = RwSignal::new(overview);
    let panel = RwSignal::new(Panel::Summary);
    let busy = RwSignal::new(false);
    // A message for the whole card (success or failure), and one beside the current field.
    let notice: RwSignal<Option<(bool, String)>> = RwSignal::new(None);
    let field_error: RwSignal<Option<String>> = RwSignal::new(None);
    let code = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let key_shown = RwSignal::new(false);
    let copy_status: RwSignal<Option<String>> = RwSignal::new(None);
    let saved = RwSignal::new(false);
    let intent = RwSignal::new(Intent::Enable);

    let refresh = move || {
        leptos::task::spawn_local(async move {
            if let Ok(fresh) = api::get_security_overview().await {
                overview.set(fresh);
            }
        });
    };
    let fail = move |err: AppError| match err {
        AppError::Validation(_) => field_error.set(err.message_for("code").or_else(|| {
            err.message_for("password")
                .or_else(|| err.message_for("two_factor"))
        })),
        other => notice.set(Some((false, other.to_string()))),
    };
    let show = move |next: Panel| {
        field_error.set(None);
        copy_status.set(None);
        panel.set(next);
    };

    // Runs what the person asked for; a stale session first proves it is still them.
    let run = move |what: Intent| {
        intent.set(what);
        notice.set(None);
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = match what {
                Intent::Enable | Intent::Replace => api::begin_totp_setup().await.map(|setup| {
                    key_shown.set(false);
                    code.set(String::new());
                    show(Panel::Scan(setup));
                }),
                Intent::Regenerate => api::regenerate_backup_codes().await.map(|codes| {
                    saved.set(false);
                    show(Panel::SaveCodes(codes, REGENERATE_STEPS));
                }),
                Intent::Disable => api::disable_two_factor().await.map(|ended| {
                    show(Panel::Summary);
                    let others = match ended {
                        0 => String::new(),
                        1 => " 1 other session was signed out.".to_owned(),
                        n => format!(" {n} other sessions were signed out."),
                    };
                    notice.set(Some((
                        true,
                        format!("Two-factor authentication is off.{others}"),
                    )));
                    refresh();
                }),
            };
            busy.set(false);
            match result {
                Ok(()) => {}
                Err(AppError::StepUpRequired) => {
                    password.set(String::new());
                    show(Panel::StepUp(what));
                }
                Err(err) => fail(err),
            }
        });
    };

    let confirm_identity = Callback::new(move |()| {
        if password.get_untracked().is_empty() {
            field_error.set(Some("Enter your password.".into()));
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = api::confirm_identity(password.get_untracked()).await;
            busy.set(false);
            match result {
                Ok(()) => {
                    password.set(String::new());
                    // Carry on with what was interrupted (the dialog, if any, was answered).
                    run(intent.get_untracked());
                }
                Err(err) => fail(err),
            }
        });
    });

    let verify = Callback::new(move |()| {
        let Panel::Verify(setup) = panel.get_untracked() else {
            return;
        };
        let typed = match normalize_otp(&code.get_untracked()) {
            Ok(typed) => typed,
            Err(message) => {
                field_error.set(Some(message));
                return;
            }
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = api::confirm_totp_setup(setup.factor_id.clone(), typed).await;
            busy.set(false);
            match result {
                Ok(Some(codes)) => {
                    saved.set(false);
                    show(Panel::SaveCodes(codes, ENABLE_STEPS));
                    refresh();
                }
                Ok(None) => {
                    show(Panel::Summary);
                    notice.set(Some((
                        true,
                        "Your authenticator app has been replaced.".to_owned(),
                    )));
                    refresh();
                }
                Err(err) => fail(err),
            }
        });
    });

    let cancel_setup = Callback::new(move |()| {
        show(Panel::Summary);
        leptos::task::spawn_local(async move {
            let _ = api::cancel_totp_setup().await;
        });
    });
    let back_to_summary = Callback::new(move |()| show(Panel::Summary));
    let finish = Callback::new(move |()| {
        let enabled =
            matches!(panel.get_untracked(), Panel::SaveCodes(_, steps) if steps == ENABLE_STEPS);
        show(Panel::Summary);
        notice.set(Some((
            true,
            if enabled {
                "Two-factor authentication is on."
            } else {
                "Your new backup codes are ready. The old ones no longer work."
            }
            .to_owned(),
        )));
    });
    let clear_field = Callback::new(move |()| field_error.set(None));

    let summary = move || {
        let current = overview.get();
        let status_text = if current.two_factor.is_some() {
            "On"
        } else {
            "Off"
        };
        let used_notice = used_backup_code
            .then(|| current.two_factor.as_ref().map(|s| s.backup_codes_left))
            .flatten()
            .map(|left| {
                let few = left <= FEW_BACKUP_CODES;
                let codes = if left == 1 {
                    "backup code"
                } else {
                    "backup codes"
                };
                view! {
                    <div
                        class=if few { "alert alert--warning" } else { "alert alert--success" }
                        role="status"
                    >
                        {format!("You signed in with a backup code. {left} {codes} left.")}
                        {few
                            .then(|| {
                                view! {
                                    " "
                                    <a
                                        href="#two-factor-title"
                                        on:click=move |ev| {
                                            ev.prevent_default();
                                            run(Intent::Regenerate);
                                        }
                                    >
                                        "Regenerate backup codes"
                                    </a>
                                }
                            })}
                    </div>
                }
            });
        let details = match current.two_factor {
            None => view! {
                <p>
                    "Protect your account with a second step at sign-in: a code from an "
                    "authenticator app on your phone, even if someone learns your password."
                </p>
                <button
                    type="button"
                    class="button button--primary"
                    disabled=move || busy.get()
                    on:click=move |_| run(Intent::Enable)
                >
                    "Enable two-factor authentication"
                </button>
            }
            .into_any(),
            Some(status) => {
                let low = status.backup_codes_left <= FEW_BACKUP_CODES;
                view! {
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
                            <dd>{current.trusted_browsers.len()}</dd>
                        </div>
                    </dl>
                    <div class="button-row">
                        <button
                            type="button"
                            class="button button--secondary"
                            disabled=move || busy.get()
                            on:click=move |_| run(Intent::Replace)
                        >
                            "Replace authenticator"
                        </button>
                        <button
                            type="button"
                            class="button button--secondary"
                            disabled=move || busy.get()
                            on:click=move |_| run(Intent::Regenerate)
                        >
                            "Regenerate backup codes"
                        </button>
                        <button
                            type="button"
                            class="button button--danger"
                            disabled=move || busy.get()
                            on:click=move |_| show(Panel::ConfirmDisable)
                        >
                            "Turn off two-factor authentication"
                        </button>
                    </div>
                }
                .into_any()
            }
        };
        view! {
            {used_notice}
            <p>
                <span
                    class=if status_text == "On" { "badge badge--success" } else { "badge" }
                    data-testid="two-factor-status"
                >
                    {status_text}
                </span>
            </p>
            {details}
        }
    };

    let body = move || match panel.get() {
        Panel::Summary => summary().into_any(),
        Panel::StepUp(_) => view! {
            <StepUpForm
                password
                error=field_error
                busy
                on_confirm=confirm_identity
                on_cancel=back_to_summary
                on_edit=clear_field
            />
        }
        .into_any(),
        Panel::Scan(setup) => {
            let steps = if setup.replacing {
                REPLACE_STEPS
            } else {
                ENABLE_STEPS
            };
            let next = {
                let setup = setup.clone();
                Callback::new(move |()| {
                    code.set(String::new());
                    show(Panel::Verify(setup.clone()));
                })
            };
            view! {
                <WizardProgress steps current=0 />
                <ScanStep setup key_shown copy_status on_next=next on_cancel=cancel_setup />
            }
            .into_any()
        }
        Panel::Verify(setup) => {
            let steps = if setup.replacing {
                REPLACE_STEPS
            } else {
                ENABLE_STEPS
            };
            let back = Callback::new(move |()| show(Panel::Scan(setup.clone())));
            view! {
                <WizardProgress steps current=1 />
                <VerifyStep
                    code
                    error=field_error
                    busy
                    on_verify=verify
                    on_back=back
                    on_cancel=cancel_setup
                    on_edit=clear_field
                />
            }
            .into_any()
        }
        Panel::SaveCodes(codes, steps) => view! {
            <WizardProgress steps current=steps.len() - 1 />
            <SaveCodesStep codes account=email.clone() saved copy_status on_finish=finish />
        }
        .into_any(),
        Panel::ConfirmDisable => view! {
            <DisableDialog
                busy
                on_confirm=Callback::new(move |()| run(Intent::Disable))
                on_cancel=back_to_summary
            />
        }
        .into_any(),
    };

    let revoke = move |id: String| {
        leptos::task::spawn_local(async move {
            match api::revoke_trusted_browser(id).await {
                Ok(()) => {
                    notice.set(Some((true, "The browser is no longer trusted.".to_owned())));
                    refresh();
                }
                Err(err) => notice.set(Some((false, err.to_string()))),
            }
        });
    };

    view! {
        <section class="card" aria-labelledby="two-factor-title">
            <h2 id="two-factor-title">"Two-factor authentication"</h2>
            <crate::components::FormAlert message=notice />
            {body}
        </section>
        <section class="card" aria-labelledby="trusted-title">
            <h2 id="trusted-title">"Trusted browsers"</h2>
            <p class="muted">
                "Browsers where you chose “Don't ask again” skip the second step for 30 days. "
                "Changing your password or turning off two-factor authentication revokes them all."
            </p>
            {move || {
                let browsers = overview.get().trusted_browsers;
                if browsers.is_empty() {
                    view! { <p>"No trusted browsers."</p> }.into_any()
                } else {
                    view! {
                        <ul class="item-list">
                            {browsers
                                .into_iter()
                                .map(|browser| {
                                    let id = browser.id.clone();
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
                                            <button
                                                type="button"
                                                class="button button--secondary button--small"
                                                aria-label=format!("Revoke {}", browser.description)
                                                on:click=move |_| revoke(id.clone())
                                            >
                                                "Revoke"
                                            </button>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// "Turn off two-factor authentication?" with the consequences spelled out.
#[component]
pub fn DisableDialog(
    #[prop(into)] busy: Signal<bool>,
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
            aria-labelledby="disable-title"
            aria-describedby="disable-text"
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    on_cancel.run(());
                }
            }
        >
            <h3 id="disable-title">"Turn off two-factor authentication?"</h3>
            <p id="disable-text">
                "Your authenticator app, backup codes and trusted browsers will be removed, and "
                "your other sessions signed out. Signing in will need only your password."
            </p>
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
                    {move || if busy.get() { "Turning off…" } else { "Turn off" }}
                </button>
            </div>
        </dialog>
    }
}
