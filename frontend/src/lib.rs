//! The browser entry point: hydrates the islands (the interactive forms) of the server-rendered
//! page.

use leptos::prelude::window;

// Links the app crate: its `#[island]` components export the functions that hydrate them, and
// nothing else here names the crate.
use app as _;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // There is no client-side router in islands mode: a server function's redirect (after
    // signing in, say) is a full page load.
    let _ = leptos::server_fn::redirect::set_redirect_hook(|location: &str| {
        let _ = window().location().set_href(location);
    });
    leptos::mount::hydrate_islands();
    // A signal for end-to-end tests and for CSS: the forms now react to input.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
