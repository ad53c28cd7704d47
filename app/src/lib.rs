//! Keyward's application crate: pages and components, server functions, shared types and the one
//! validation module, compiled for the browser (`hydrate`) and the server (`ssr`). Server-only
//! code lives in [`server`].
//!
//! Leptos runs in islands mode: pages render on the server, and only the components marked
//! `#[island]` (the forms) are hydrated and ship WebAssembly. Navigation is plain links.

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod fixtures;
pub mod flows;
pub mod pages;
pub mod routes;

// The shared vocabulary (the one validation module, typed codes, `Secret`) lives in `domain`,
// which the services use too; re-exported so forms and server functions name it as before.
pub use domain::{secret, validation};

#[cfg(feature = "ssr")]
pub mod server;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use pages::settings::SettingsLayout;
use routes::Page;

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    provide_csp_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.ico" sizes="any" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options=options.clone() islands=true />
                <HashedStylesheet options id="leptos" />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Makes the nonce chosen by the security-headers middleware the one Leptos puts on its inline
/// hydration script, so the Content-Security-Policy needs no `'unsafe-inline'`.
#[cfg(feature = "ssr")]
fn provide_csp_nonce() {
    use crate::server::context::CspNonce;
    let parts = use_context::<http::request::Parts>();
    if let Some(CspNonce(nonce)) = parts.as_ref().and_then(|p| p.extensions.get::<CspNonce>()) {
        provide_context(leptos::nonce::Nonce::from_value(nonce.as_str()));
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title formatter=|title: String| format!("{title} · Keyward") />
        <Router>
            <a class="skip-link" href="#main">
                "Skip to content"
            </a>
            <components::SiteHeader />
            <main id="main" class="main" tabindex="-1">
                <Routes fallback=pages::NotFound>
                    <Route path=Page::SignIn.route() ssr=Page::SSR_MODE view=pages::auth::SignInPage />
                    <Route path=Page::Challenge.route() ssr=Page::SSR_MODE view=pages::auth::ChallengePage />
                    <Route path=Page::SignUp.route() ssr=Page::SSR_MODE view=pages::auth::SignUpPage />
                    <Route path=Page::Design.route() ssr=Page::SSR_MODE view=pages::design::DesignGallery />
                    <Route
                        path=Page::Account.route() ssr=Page::SSR_MODE
                        view=|| view! { <SettingsLayout><pages::settings::AccountPage /></SettingsLayout> }
                    />
                    <Route
                        path=Page::Security.route() ssr=Page::SSR_MODE
                        view=|| view! { <SettingsLayout><pages::security::SecurityPage /></SettingsLayout> }
                    />
                    <Route
                        path=Page::TwoFactorWizard.route() ssr=Page::SSR_MODE
                        view=|| {
                            view! {
                                <SettingsLayout>
                                    <pages::security::TwoFactorWizardPage />
                                </SettingsLayout>
                            }
                        }
                    />
                </Routes>
            </main>
        </Router>
    }
}
