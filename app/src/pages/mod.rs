pub mod auth;
pub mod design;
pub mod security;
pub mod settings;

use crate::routes::Page;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <section class="card card--narrow">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <A href=Page::HOME.path()>"Go to your settings"</A>
        </section>
    }
}
