//! `/design`: every step of the two-factor wizard and the sign-in challenge in each of its
//! states, rendered from fixtures with no database, for designers. With `cargo leptos watch` a
//! change to `style/` or a component shows here at once. Development mode only: in production
//! the route answers 404.

use crate::api::two_factor::SignedOutElsewhere;
use crate::components::FormAlert;
use crate::components::two_factor::{
    ChallengeFields, ENABLE_STEPS, REPLACE_STEPS, STEP_UP_UNAVAILABLE, SaveCodesStep, ScanStep,
    StepUpForm, VerifyStep, WizardProgress,
};
use crate::error::StepUpProof;
use crate::fixtures;
use crate::pages::NotFound;
use crate::pages::security::{DisableDialog, RegenerateDialog, ScriptNeeded, outcome_message};
use crate::pages::settings::password_changed_text;
use crate::routes::Notice;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

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

fn noop() -> Callback<()> {
    Callback::new(|()| ())
}

/// One screen in one state: its title (the index entry and the anchor) and how to render it
/// (once per theme shown).
struct Specimen {
    title: &'static str,
    render: Box<dyn Fn() -> AnyView>,
}

fn specimen<V: IntoView + 'static>(
    title: &'static str,
    render: impl Fn() -> V + 'static,
) -> Specimen {
    Specimen {
        title,
        render: Box::new(move || render().into_any()),
    }
}

/// A specimen's anchor and `?only=` value: its title in lower case, words joined by dashes
/// ("Wizard 2 · Verify, empty" is `wizard-2-verify-empty`).
pub fn slug(title: &str) -> String {
    title
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// Which themes the gallery shows each specimen in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GalleryTheme {
    /// As the system prefers (no `data-theme`).
    System,
    Light,
    Dark,
    /// Light and dark side by side.
    Both,
}

impl GalleryTheme {
    const ALL: [GalleryTheme; 4] = [
        GalleryTheme::System,
        GalleryTheme::Light,
        GalleryTheme::Dark,
        GalleryTheme::Both,
    ];

    fn value(self) -> &'static str {
        match self {
            GalleryTheme::System => "system",
            GalleryTheme::Light => "light",
            GalleryTheme::Dark => "dark",
            GalleryTheme::Both => "both",
        }
    }

    fn label(self) -> &'static str {
        match self {
            GalleryTheme::System => "System",
            GalleryTheme::Light => "Light",
            GalleryTheme::Dark => "Dark",
            GalleryTheme::Both => "Light and dark",
        }
    }

    /// The `data-theme` of each frame a specimen is shown in.
    fn frames(self) -> &'static [Option<&'static str>] {
        match self {
            GalleryTheme::System => &[None],
            GalleryTheme::Light => &[Some("light")],
            GalleryTheme::Dark => &[Some("dark")],
            GalleryTheme::Both => &[Some("light"), Some("dark")],
        }
    }
}

/// What the gallery shows, all of it in the URL, so a link shows a designer exactly one state:
/// `?theme=dark&width=phone&only=wizard-2-verify-empty`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GalleryView {
    pub theme: GalleryTheme,
    /// Each specimen at a phone's width (375 px) rather than the page's.
    pub phone: bool,
    /// One specimen alone (its slug).
    pub only: Option<String>,
}

impl GalleryView {
    pub fn read(theme: Option<&str>, width: Option<&str>, only: Option<&str>) -> GalleryView {
        GalleryView {
            theme: GalleryTheme::ALL
                .into_iter()
                .find(|t| Some(t.value()) == theme)
                .unwrap_or(GalleryTheme::System),
            phone: width == Some("phone"),
            only: only.filter(|only| !only.is_empty()).map(str::to_owned),
        }
    }

    /// The gallery's address for this view (defaults left out).
    pub fn href(&self) -> String {
        let mut query = Vec::new();
        if self.theme != GalleryTheme::System {
            query.push(format!("theme={}", self.theme.value()));
        }
        if self.phone {
            query.push("width=phone".to_owned());
        }
        if let Some(only) = &self.only {
            query.push(format!("only={only}"));
        }
        if query.is_empty() {
            "/design".to_owned()
        } else {
            format!("/design?{}", query.join("&"))
        }
    }
}

/// The view switches: theme, width, and back to every specimen. Each is a link keeping the
/// other choices.
#[component]
fn GalleryToolbar(view: GalleryView) -> impl IntoView {
    // A switch: the gallery as it is with one choice changed, marked when it is the current one.
    let switch = |target: GalleryView, label: &'static str| {
        let current = (target == view).then_some("true");
        view! { <a href=target.href() aria-current=current>{label}</a> }
    };
    let theme_links = GalleryTheme::ALL
        .into_iter()
        .map(|theme| {
            switch(
                GalleryView {
                    theme,
                    ..view.clone()
                },
                theme.label(),
            )
        })
        .collect_view();
    let width_links = [(false, "Page width"), (true, "Phone width")]
        .into_iter()
        .map(|(phone, label)| {
            switch(
                GalleryView {
                    phone,
                    ..view.clone()
                },
                label,
            )
        })
        .collect_view();
    let all = view.only.is_some().then(|| {
        let target = GalleryView {
            only: None,
            ..view.clone()
        };
        view! {
            <p>
                <a href=target.href()>"Show every specimen"</a>
            </p>
        }
    });
    view! {
        <nav class="gallery__toolbar" aria-label="Gallery view">
            <p class="gallery__switch">
                <span class="gallery__switch-label">"Theme"</span>
                {theme_links}
            </p>
            <p class="gallery__switch">
                <span class="gallery__switch-label">"Width"</span>
                {width_links}
            </p>
            {all}
        </nav>
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
                account=fixtures::ACCOUNT.to_owned()
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

    let specimens: Vec<Specimen> = vec![
        specimen("Wizard 1 · Scan", move || {
            view! { <WizardProgress steps=ENABLE_STEPS current=0 />
            <ScanStep
                setup=fixtures::totp_setup(false)
                key_shown=RwSignal::new(false)
                copy_status=RwSignal::new(None)
                on_next=noop()
                on_cancel=noop()
            /> }
        }),
        specimen("Wizard 1 · Scan, key shown and copied", move || {
            view! { <WizardProgress steps=ENABLE_STEPS current=0 />
            <ScanStep
                setup=fixtures::totp_setup(false)
                key_shown=RwSignal::new(true)
                copy_status=RwSignal::new(Some("Copied to the clipboard.".to_owned()))
                on_next=noop()
                on_cancel=noop()
            /> }
        }),
        specimen(
            "Wizard 2 · Verify, empty",
            move || view! { {verify("", none(), false)} },
        ),
        specimen(
            "Wizard 2 · Verify, typing",
            move || view! { {verify("123 4", none(), false)} },
        ),
        specimen(
            "Wizard 2 · Verify, invalid",
            move || view! { {verify("12a456", err("The code is 6 digits, like 123 456."), false)} },
        ),
        specimen(
            "Wizard 2 · Verify, wrong code with attempts left",
            move || view! { {verify("123456", err("That code didn't match. 4 attempts left."), false)} },
        ),
        specimen(
            "Wizard 2 · Verify, loading",
            move || view! { {verify("123456", none(), true)} },
        ),
        specimen("Wizard 2 · Verify, expired", move || {
            view! { {verify(
                "123456",
                err("This setup has expired. Start again to get a new QR code."),
                false,
            )} }
        }),
        specimen("Wizard 3 · Save codes", move || {
            view! { <WizardProgress steps=ENABLE_STEPS current=2 />
            <SaveCodesStep
                codes=fixtures::backup_codes()
                saved=RwSignal::new(false)
                copy_status=RwSignal::new(None)
                on_finish=noop()
            /> }
        }),
        specimen(
            "Wizard 3 · Save codes, saved (Finish enabled)",
            move || {
                view! { <WizardProgress steps=ENABLE_STEPS current=2 />
                <SaveCodesStep
                    codes=fixtures::backup_codes()
                    saved=RwSignal::new(true)
                    copy_status=RwSignal::new(Some("Copied to the clipboard.".to_owned()))
                    on_finish=noop()
                /> }
            },
        ),
        specimen("Success", move || {
            view! { <div class="alert alert--success" role="status">
                "Two-factor authentication is on."
            </div>
            <p>
                <span class="badge badge--success">"On"</span>
            </p> }
        }),
        specimen("Replace · Scan", move || {
            view! { <WizardProgress steps=REPLACE_STEPS current=0 />
            <ScanStep
                setup=fixtures::totp_setup(true)
                key_shown=RwSignal::new(false)
                copy_status=RwSignal::new(None)
                on_next=noop()
                on_cancel=noop()
            /> }
        }),
        specimen(
            "Step-up · password (no second factor)",
            move || view! { {step_up(Method::Password, "", none())} },
        ),
        specimen(
            "Step-up · wrong password",
            move || view! { {step_up(Method::Password, "hunter2", err("That is not your password."))} },
        ),
        specimen(
            "Step-up · authenticator code",
            move || view! { {step_up(Method::AppCode, "", none())} },
        ),
        specimen("Step-up · wrong code", move || {
            view! { {step_up(
                Method::AppCode,
                "123456",
                err("That code didn't match. Wait for the next code and try again."),
            )} }
        }),
        specimen(
            "Step-up · backup code",
            move || view! { {step_up(Method::BackupCode, "a2b3c-d4e5f", none())} },
        ),
        specimen("Step-up · wrong backup code", move || {
            view! { {step_up(
                Method::BackupCode,
                "a2b3c-d4e5f",
                err("That backup code didn't work. Check it, or use another one."),
            )} }
        }),
        specimen("Step-up · too many attempts (above the form)", move || {
            view! {
                <FormAlert message=Signal::stored(
                    Some((false, "Too many failed attempts. Try again in 5 minutes.".to_owned())),
                ) />
                {step_up(Method::AppCode, "123456", none())}
            }
        }),
        specimen(
            "Step-up · could not be loaded (the form it guards)",
            move || {
                view! {
                    <FormAlert message=Signal::stored(Some((false, STEP_UP_UNAVAILABLE.to_owned()))) />
                }
            },
        ),
        specimen("Security · turned on, signed out elsewhere", move || {
            view! { {notice(
                Notice::TwoFactorOn(SignedOutElsewhere {
                    other_sessions: 2,
                    trusted_browsers: 1,
                }),
            )} }
        }),
        specimen("Security · authenticator replaced", move || {
            view! { {notice(
                Notice::AuthenticatorReplaced(SignedOutElsewhere {
                    other_sessions: 1,
                    trusted_browsers: 0,
                }),
            )} }
        }),
        specimen(
            "Security · new backup codes",
            move || view! { {notice(Notice::BackupCodesRegenerated)} },
        ),
        specimen(
            "Security · turned off",
            move || view! { {notice(Notice::TwoFactorOff(SignedOutElsewhere::default()))} },
        ),
        specimen(
            "Security · a browser no longer trusted",
            move || view! { {notice(Notice::BrowserUntrusted)} },
        ),
        specimen(
            "Account · password changed (sent without script)",
            move || {
                view! { <div class="alert alert--success" role="status">
                    {password_changed_text(2)}
                </div> }
            },
        ),
        specimen(
            "Wizard · JavaScript turned off",
            move || view! { <ScriptNeeded /> },
        ),
        specimen(
            "New backup codes · confirm dialog",
            move || view! { <RegenerateDialog busy=Signal::stored(false) on_confirm=noop() on_cancel=noop() /> },
        ),
        specimen(
            "Turn off · confirm dialog",
            move || view! { <DisableDialog busy=Signal::stored(false) on_confirm=noop() on_cancel=noop() /> },
        ),
        specimen(
            "Challenge · empty",
            move || view! { {challenge(false, "", none(), None, false)} },
        ),
        specimen(
            "Challenge · typing",
            move || view! { {challenge(false, "123", none(), None, false)} },
        ),
        specimen(
            "Challenge · invalid",
            move || view! { {challenge(false, "12345", err("The code is 6 digits, like 123 456."), None, false)} },
        ),
        specimen("Challenge · wrong code with attempts left", move || {
            view! { {challenge(
                false,
                "123456",
                err("That code didn't work. 4 attempts left."),
                None,
                false,
            )} }
        }),
        specimen(
            "Challenge · loading",
            move || view! { {challenge(false, "123456", none(), None, true)} },
        ),
        specimen(
            "Challenge · backup code",
            move || view! { {challenge(true, "a2b3c-d4e5f", none(), None, false)} },
        ),
        specimen("Challenge · waiting after many wrong codes", move || {
            view! { {challenge(
                false,
                "123456",
                none(),
                Some("Too many failed attempts. Try again in 30 seconds."),
                false,
            )} }
        }),
        specimen("Challenge · expired (back at sign-in)", move || {
            view! { <div class="alert alert--danger" role="alert">
                "Too many wrong codes. Sign in again."
            </div> }
        }),
    ];
    let query = use_query_map();
    let view = query.with_untracked(|q| {
        GalleryView::read(
            q.get("theme").as_deref(),
            q.get("width").as_deref(),
            q.get("only").as_deref(),
        )
    });
    let index = specimens
        .iter()
        .map(|specimen| {
            let slug = slug(specimen.title);
            let alone = GalleryView {
                only: Some(slug.clone()),
                ..view.clone()
            };
            view! {
                <li>
                    <a href=format!("#{slug}")>{specimen.title}</a>
                    " · "
                    <a href=alone.href() aria-label=format!("{} alone", specimen.title)>
                        "alone"
                    </a>
                </li>
            }
        })
        .collect_view();
    let shown = specimens
        .iter()
        .filter(|specimen| {
            view.only
                .as_deref()
                .is_none_or(|only| slug(specimen.title) == only)
        })
        .map(|specimen| {
            let slug = slug(specimen.title);
            let title_id = format!("{slug}-title");
            let frames = view
                .theme
                .frames()
                .iter()
                .map(|theme| {
                    view! {
                        <div class="specimen__frame" data-theme=*theme>
                            <p class="specimen__theme">{theme.unwrap_or("system")}</p>
                            <div class="card">{(specimen.render)()}</div>
                        </div>
                    }
                })
                .collect_view();
            let (labelledby, anchor) = (title_id.clone(), format!("#{slug}"));
            view! {
                <section class="specimen" id=slug aria-labelledby=labelledby>
                    <h2 class="specimen__title" id=title_id>
                        <a href=anchor>{specimen.title}</a>
                    </h2>
                    <div class="specimen__frames">{frames}</div>
                </section>
            }
        })
        .collect_view();
    let count = specimens.len();
    view! {
        <Title text="Design gallery" />
        <div class="gallery" class:gallery--phone=view.phone>
            <h1 class="page-title">"Design gallery"</h1>
            <p class="muted">
                {format!("{count} screens and states, from fixtures. ")}
                "Development mode only: edit a token in style/main.css and this page restyles "
                "in place; edit a component and it reloads. The view is in the address, so a "
                "link shows exactly one state."
            </p>
            <GalleryToolbar view=view.clone() />
            <nav class="gallery__index" aria-labelledby="gallery-index-title">
                <h2 id="gallery-index-title">"Screens and states"</h2>
                <ol>{index}</ol>
            </nav>
            {shown}
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_specimen_is_found_by_its_title_in_lower_case_with_dashes() {
        assert_eq!(slug("Wizard 2 · Verify, empty"), "wizard-2-verify-empty");
        assert_eq!(
            slug("Step-up · password (no second factor)"),
            "step-up-password-no-second-factor"
        );
    }

    #[test]
    fn the_view_round_trips_through_the_address_leaving_defaults_out() {
        let view = GalleryView::read(Some("both"), Some("phone"), Some("challenge-empty"));
        assert_eq!(
            view.href(),
            "/design?theme=both&width=phone&only=challenge-empty"
        );
        assert_eq!(GalleryView::read(None, None, None).href(), "/design");
        // Anything unknown is the default, not an error.
        let odd = GalleryView::read(Some("sepia"), Some("watch"), Some(""));
        assert_eq!(odd, GalleryView::read(None, None, None));
    }
}
