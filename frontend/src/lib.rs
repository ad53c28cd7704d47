//! The browser entry point: hydrates the islands (the interactive forms) of the server-rendered
//! page.

use leptos::prelude::window;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // There is no client-side router in islands mode: a server function's redirect (after
    // signing in, say) is a full page load.
    let _ = leptos::server_fn::redirect::set_redirect_hook(|location: &str| {
        let _ = window().location().set_href(location);
    });
    leptos::mount::hydrate_islands();
    // A signal for end-to-end tests and for CSS: the page now reacts to input. Each lazy island
    // hydrates when its own chunk arrives and the last one marks the body
    // (`app::components::island_hydrated`); a page without islands is ready now.
    if app::components::islands_on_page() == 0
        && let Some(body) = leptos::prelude::document().body()
    {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
