//! `/design`: every step of the two-factor wizard and the sign-in challenge in each of its
//! states, rendered from fixtures with no database, for designers. With `cargo leptos watch` a
//! change to `style/` or a component shows here at once. Development mode only: in production
//! the route answers 404.

use crate::api::two_factor::{BackupCodeSet, SignedOutElsewhere, TotpSetup};
use crate::components::two_factor::{
    ChallengeFields, ENABLE_STEPS, REPLACE_STEPS, SaveCodesStep, ScanStep, StepUpForm, VerifyStep,
    WizardProgress,
};
use crate::error::StepUpProof;
use crate::pages::NotFound;
use crate::pages::security::{DisableDialog, RegenerateDialog, ScriptNeeded, outcome_message};
use crate::pages::settings::password_changed_text;
use crate::routes::Notice;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::Title;

/// Whether the server runs in development mode (`LEPTOS_ENV=DEV`, as `cargo leptos watch` sets).
fn gallery_enabled() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<crate::server::AppState>()
            .is_some_and(|state| state.leptos_options.env == leptos::config::Env::DEV)
    }
    #[cfg(not(feature = "ssr"))]
    {
        false
    }
}

/// A fixed, valid-looking setup: the secret of RFC 6238's test vectors, never a real one.
fn fixture_setup(replacing: bool) -> TotpSetup {
    // The real QR encoder: this page renders on the server only.
    let uri = "otpauth://totp/Keyward:ann%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
               &issuer=Keyward&algorithm=SHA1&digits=6&period=30";
    #[cfg(feature = "ssr")]
    let qr_code = crate::api::present::qr_code_data_uri(uri).unwrap_or_default();
    #[cfg(not(feature = "ssr"))]
    let qr_code = {
        let _ = uri;
        String::new()
    };
    TotpSetup {
        factor_id: "00000000-0000-0000-0000-000000000000".into(),
        qr_code,
        manual_key: "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ".into(),
        replacing,
    }
}

fn fixture_codes() -> BackupCodeSet {
    BackupCodeSet {
        codes: [
            "a2b3c-d4e5f",
            "g6h7j-k8m9n",
            "p2q3r-s4t5v",
            "w6x7y-z8a9b",
            "c2d3e-f4g5h",
            "j6k7m-n8p9q",
            "r2s3t-v4w5x",
            "y6z7a-b8c9d",
            "e2f3g-h4j5k",
            "m6n7p-q8r9s",
        ]
        .map(str::to_owned)
        .to_vec(),
        account: "ann@example.com".into(),
        file_name: "keyward-backup-codes-ann@example.com.txt".into(),
    }
}

fn noop() -> Callback<()> {
    Callback::new(|()| ())
}

#[component]
fn Specimen(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="specimen" aria-label=title>
            <h2 class="specimen__title">{title}</h2>
            <div class="card">{children()}</div>
        </section>
    }
}

#[component]
pub fn DesignGallery() -> impl IntoView {
    if !gallery_enabled() {
        return view! { <NotFound /> }.into_any();
    }
    let text = |value: &str| RwSignal::new(value.to_owned());
    let err = |message: &str| Signal::stored(Some(message.to_owned()));
    let none = || Signal::stored(None::<String>);
    let verify = move |code: &str, error: Signal<Option<String>>, busy: bool| {
        view! {
            <WizardProgress steps=ENABLE_STEPS current=1 />
            <VerifyStep
                code=text(code)
                error
                busy=Signal::stored(busy)
                on_verify=noop()
                on_back=noop()
                on_cancel=noop()
                on_edit=noop()
            />
        }
    };
    // What the step-up prompt asks for, and what has been typed into it.
    #[derive(Clone, Copy, PartialEq)]
    enum Method {
        Password,
        AppCode,
        BackupCode,
    }
    let step_up = move |method: Method, typed: &str, error: Signal<Option<String>>| {
        let (proof, password, code) = match method {
            Method::Password => (StepUpProof::Password, typed, ""),
            Method::AppCode | Method::BackupCode => (StepUpProof::SecondFactor, "", typed),
        };
        view! {
            <StepUpForm
                proof
                account="ann@example.com".to_owned()
                password=text(password)
                code=text(code)
                use_backup_code=RwSignal::new(method == Method::BackupCode)
                error
                busy=Signal::stored(false)
                on_confirm=noop()
                on_cancel=noop()
                on_edit=noop()
            />
        }
    };
    let notice = |notice: Notice| {
        view! {
            <div class="alert alert--success" role="status">
                {outcome_message(notice)}
            </div>
        }
    };
    let challenge = move |backup: bool,
                          code: &str,
                          error: Signal<Option<String>>,
                          alert: Option<&str>,
                          busy: bool| {
        view! {
            <h1>"Two-factor authentication"</h1>
            <ChallengeFields
                action_url="#"
                trust_days=30
                use_backup_code=RwSignal::new(backup)
                code=text(code)
                trust_browser=RwSignal::new(false)
                error
                alert=Signal::stored(alert.map(|a| (false, a.to_owned())))
                busy=Signal::stored(busy)
                on_submit=Callback::new(|_: SubmitEvent| ())
                on_edit=noop()
            />
        }
    };

    view! {
        <Title text="Design gallery" />
        <div class="gallery">
            <h1 class="page-title">"Design gallery"</h1>
            <p class="muted">
                "Every two-factor screen in each state, from fixtures. Development mode only; "
                "edit style/main.css or a component and this page reloads."
            </p>

            <Specimen title="Wizard 1 · Scan">
                <WizardProgress steps=ENABLE_STEPS current=0 />
                <ScanStep
                    setup=fixture_setup(false)
                    key_shown=RwSignal::new(false)
                    copy_status=RwSignal::new(None)
                    on_next=noop()
                    on_cancel=noop()
                />
            </Specimen>
            <Specimen title="Wizard 1 · Scan, key shown and copied">
                <WizardProgress steps=ENABLE_STEPS current=0 />
                <ScanStep
                    setup=fixture_setup(false)
                    key_shown=RwSignal::new(true)
                    copy_status=RwSignal::new(Some("Copied to the clipboard.".to_owned()))
                    on_next=noop()
                    on_cancel=noop()
                />
            </Specimen>
            <Specimen title="Wizard 2 · Verify, empty">{verify("", none(), false)}</Specimen>
            <Specimen title="Wizard 2 · Verify, typing">{verify("123 4", none(), false)}</Specimen>
            <Specimen title="Wizard 2 · Verify, invalid">
                {verify("12a456", err("The code is 6 digits, like 123 456."), false)}
            </Specimen>
            <Specimen title="Wizard 2 · Verify, wrong code with attempts left">
                {verify("123456", err("That code didn't match. 4 attempts left."), false)}
            </Specimen>
            <Specimen title="Wizard 2 · Verify, loading">{verify("123456", none(), true)}</Specimen>
            <Specimen title="Wizard 2 · Verify, expired">
                {verify(
                    "123456",
                    err("This setup has expired. Start again to get a new QR code."),
                    false,
                )}
            </Specimen>
            <Specimen title="Wizard 3 · Save codes">
                <WizardProgress steps=ENABLE_STEPS current=2 />
                <SaveCodesStep
                    codes=fixture_codes()
                    saved=RwSignal::new(false)
                    copy_status=RwSignal::new(None)
                    on_finish=noop()
                />
            </Specimen>
            <Specimen title="Wizard 3 · Save codes, saved (Finish enabled)">
                <WizardProgress steps=ENABLE_STEPS current=2 />
                <SaveCodesStep
                    codes=fixture_codes()
                    saved=RwSignal::new(true)
                    copy_status=RwSignal::new(Some("Copied to the clipboard.".to_owned()))
                    on_finish=noop()
                />
            </Specimen>
            <Specimen title="Success">
                <div class="alert alert--success" role="status">
                    "Two-factor authentication is on."
                </div>
                <p>
                    <span class="badge badge--success">"On"</span>
                </p>
            </Specimen>
            <Specimen title="Replace · Scan">
                <WizardProgress steps=REPLACE_STEPS current=0 />
                <ScanStep
                    setup=fixture_setup(true)
                    key_shown=RwSignal::new(false)
                    copy_status=RwSignal::new(None)
                    on_next=noop()
                    on_cancel=noop()
                />
            </Specimen>
            <Specimen title="Step-up · password (no second factor)">
                {step_up(Method::Password, "", none())}
            </Specimen>
            <Specimen title="Step-up · wrong password">
                {step_up(Method::Password, "hunter2", err("That is not your password."))}
            </Specimen>
            <Specimen title="Step-up · authenticator code">
                {step_up(Method::AppCode, "", none())}
            </Specimen>
            <Specimen title="Step-up · wrong code">
                {step_up(
                    Method::AppCode,
                    "123456",
                    err("That code didn't match. Wait for the next code and try again."),
                )}
            </Specimen>
            <Specimen title="Step-up · backup code">
                {step_up(Method::BackupCode, "a2b3c-d4e5f", none())}
            </Specimen>
            <Specimen title="Step-up · wrong backup code">
                {step_up(
                    Method::BackupCode,
                    "a2b3c-d4e5f",
                    err("That backup code didn't work. Check it, or use another one."),
                )}
            </Specimen>
            <Specimen title="Security · turned on, signed out elsewhere">
                {notice(
                    Notice::TwoFactorOn(SignedOutElsewhere {
                        other_sessions: 2,
                        trusted_browsers: 1,
                    }),
                )}
            </Specimen>
            <Specimen title="Security · authenticator replaced">
                {notice(
                    Notice::AuthenticatorReplaced(SignedOutElsewhere {
                        other_sessions: 1,
                        trusted_browsers: 0,
                    }),
                )}
            </Specimen>
            <Specimen title="Security · new backup codes">
                {notice(Notice::BackupCodesRegenerated)}
            </Specimen>
            <Specimen title="Security · turned off">
                {notice(Notice::TwoFactorOff(SignedOutElsewhere::default()))}
            </Specimen>
            <Specimen title="Security · a browser no longer trusted">
                {notice(Notice::BrowserUntrusted)}
            </Specimen>
            <Specimen title="Account · password changed (sent without script)">
                <div class="alert alert--success" role="status">
                    {password_changed_text(2)}
                </div>
            </Specimen>
            <Specimen title="Wizard · JavaScript turned off">
                <ScriptNeeded />
            </Specimen>
            <Specimen title="New backup codes · confirm dialog">
                <RegenerateDialog busy=Signal::stored(false) on_confirm=noop() on_cancel=noop() />
            </Specimen>
            <Specimen title="Turn off · confirm dialog">
                <DisableDialog busy=Signal::stored(false) on_confirm=noop() on_cancel=noop() />
            </Specimen>
            <Specimen title="Challenge · empty">{challenge(false, "", none(), None, false)}</Specimen>
            <Specimen title="Challenge · typing">
                {challenge(false, "123", none(), None, false)}
            </Specimen>
            <Specimen title="Challenge · invalid">
                {challenge(false, "12345", err("The code is 6 digits, like 123 456."), None, false)}
            </Specimen>
            <Specimen title="Challenge · wrong code with attempts left">
                {challenge(
                    false,
                    "123456",
                    err("That code didn't work. 4 attempts left."),
                    None,
                    false,
                )}
            </Specimen>
            <Specimen title="Challenge · loading">
                {challenge(false, "123456", none(), None, true)}
            </Specimen>
            <Specimen title="Challenge · backup code">
                {challenge(true, "a2b3c-d4e5f", none(), None, false)}
            </Specimen>
            <Specimen title="Challenge · waiting after many wrong codes">
                {challenge(
                    false,
                    "123456",
                    none(),
                    Some("Too many failed attempts. Try again in 30 seconds."),
                    false,
                )}
            </Specimen>
            <Specimen title="Challenge · expired (back at sign-in)">
                <div class="alert alert--danger" role="alert">
                    "Too many wrong codes. Sign in again."
                </div>
            </Specimen>
        </div>
    }
        .into_any()
}
