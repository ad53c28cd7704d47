//! A place in an island where views are mounted from WebAssembly chunks loaded on demand.
//!
//! An island's views are compiled into its own chunk, which the page downloads before it is
//! interactive. Views that appear only after something happens (the wizard's later steps,
//! "Confirm it's you") are mounted through a [`LazySlot`] instead, by a function marked
//! `#[leptos::lazy]`: that function and what only it needs are a chunk of their own, downloaded
//! on its first call (`cargo leptos build --split`). The page downloads what it shows.

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
/// What it holds exists in the browser only: thread-local values created while the server
/// renders an island would be dropped on another of its threads, which panics.
#[derive(Clone, Copy)]
pub struct LazySlot {
    host: NodeRef<leptos::html::Div>,
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
            #[cfg(feature = "hydrate")]
            generation: StoredValue::new_local(0),
            #[cfg(feature = "hydrate")]
            shown: StoredValue::new_local(None),
        }
    }

    /// The element views go into: `<div node_ref=slot.host()></div>`.
    pub fn host(self) -> NodeRef<leptos::html::Div> {
        self.host
    }

    /// Replaces what is shown with the view `mount` mounts into the host element (a
    /// `#[leptos::lazy]` function, so its chunk loads first). Does nothing on the server, where
    /// islands never mount anything.
    #[cfg(feature = "hydrate")]
    pub fn show<F>(self, mount: impl FnOnce(web_sys::HtmlElement) -> F)
    where
        F: std::future::Future<Output = Mounted> + 'static,
    {
        self.hide();
        let Some(host) = self.host.get_untracked() else {
            return;
        };
        let wanted = self.generation.get_value();
        let mounting = mount(host.into());
        leptos::task::spawn_local(async move {
            let mounted = mounting.await;
            // Not the view asked for last (or the island is gone): `mounted` drops here.
            if self.generation.try_get_value() == Some(wanted) {
                self.shown.set_value(Some(mounted));
            }
        });
    }

    /// Takes the view away, if one is shown.
    pub fn hide(self) {
        #[cfg(feature = "hydrate")]
        {
            self.generation.update_value(|n| *n = n.wrapping_add(1));
            self.shown.set_value(None);
        }
    }
}

impl Default for LazySlot {
    fn default() -> Self {
        Self::new()
    }
}
