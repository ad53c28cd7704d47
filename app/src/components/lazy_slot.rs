//! A place in an island where a view is mounted from a WebAssembly chunk loaded on demand.
//!
//! An island's views are compiled into its own chunk, which the page downloads before it is
//! interactive. A view that appears only after something happens, and that few visits need
//! ("Confirm it's you"), is mounted through a [`LazySlot`] instead, by a split function
//! (`#[leptos::wasm_split::wasm_split(…, fallible)]`): that function and what only it needs are a
//! chunk of their own, downloaded on its first call (`cargo leptos build --split`). Split points
//! are used sparingly: see docs/architecture.md.

use leptos::prelude::*;

/// A mounted view; dropping it takes the view off the page.
pub struct Mounted {
    _view: Box<dyn std::any::Any>,
}

impl Mounted {
    /// Keeps `handle` (what `leptos::mount::mount_to` returns) for as long as the view should
    /// stay.
    pub fn new(handle: impl std::any::Any) -> Self {
        Mounted {
            _view: Box::new(handle),
        }
    }
}

/// An element of the island and the view mounted in it, if any. `Copy`, like a signal.
///
/// The mounted view lives in the browser only: thread-local values created while the server
/// renders an island would be dropped on another of its threads, which panics.
#[derive(Clone, Copy)]
pub struct LazySlot {
    host: NodeRef<leptos::html::Div>,
    /// Whether a view's chunk is on its way (said in the page).
    loading: RwSignal<bool>,
    /// Counts requests, so a view whose chunk arrives after another was asked for is dropped.
    #[cfg(feature = "hydrate")]
    generation: StoredValue<u32, LocalStorage>,
    #[cfg(feature = "hydrate")]
    shown: StoredValue<Option<Mounted>, LocalStorage>,
}

impl LazySlot {
    pub fn new() -> Self {
        LazySlot {
            host: NodeRef::new(),
            loading: RwSignal::new(false),
            #[cfg(feature = "hydrate")]
            generation: StoredValue::new_local(0),
            #[cfg(feature = "hydrate")]
            shown: StoredValue::new_local(None),
        }
    }

    /// The slot in the page: "Loading…" while a view's chunk is on its way (only then, so
    /// the page's own status messages stay the only ones), then the view.
    pub fn view(self) -> impl IntoView {
        view! {
            {move || {
                self.loading
                    .get()
                    .then(|| view! { <p class="muted" role="status">"Loading…"</p> })
            }}
            <div node_ref=self.host></div>
        }
    }

    /// Replaces what is shown with the view `mount` mounts into the slot's element (a split
    /// function, so its chunk loads first). When the chunk cannot be loaded (offline, or a new
    /// version deployed since the page was opened), nothing is shown and `on_failure` runs; a
    /// later call tries the download again.
    #[cfg(feature = "hydrate")]
    pub fn show<F>(
        self,
        mount: impl FnOnce(web_sys::HtmlElement) -> F,
        on_failure: impl FnOnce() + 'static,
    ) where
        F: std::future::Future<Output = Result<Mounted, leptos::wasm_split::SplitLoaderError>>
            + 'static,
    {
        self.hide();
        let Some(host) = self.host.get_untracked() else {
            on_failure();
            return;
        };
        let wanted = self.generation.get_value();
        self.loading.set(true);
        let mounting = mount(host.into());
        leptos::task::spawn_local(async move {
            let mounted = mounting.await;
            // Not the view asked for last, or the island is gone: nothing more to do (a view
            // mounted meanwhile is dropped here).
            if self.generation.try_get_value() != Some(wanted) {
                return;
            }
            self.loading.set(false);
            match mounted {
                Ok(mounted) => self.shown.set_value(Some(mounted)),
                Err(_) => on_failure(),
            }
        });
    }

    /// Takes the view away, if one is shown. Safe from the view's own event handlers: the
    /// handler that is running is freed only after it returns.
    pub fn hide(self) {
        self.loading.set(false);
        #[cfg(feature = "hydrate")]
        {
            self.generation.update_value(|n| *n = n.wrapping_add(1));
            // Dropped outside the stored value's lock: unmounting runs the view's cleanups.
            let shown = self.shown.try_update_value(Option::take).flatten();
            drop(shown);
        }
    }
}

impl Default for LazySlot {
    fn default() -> Self {
        Self::new()
    }
}
