//! How an island calls the server: the fields the browser would post natively, to the form's
//! server function, with the answer read in postcard. [`FormPost`] for a form (the answer and
//! the pending state in signals), [`call`] for one call from code.
//!
//! It replaces Leptos's `ServerAction` and the generated client calls in islands. The
//! server-function client behind them (gloo-net, serde_qs, the streaming and error plumbing) was
//! about 14 KB brotli of every page with a form (measured on the challenge page: 121 KB with it,
//! 107 KB without); what is here is a `fetch` and the postcard decoder the islands have anyway.
//! The server side is unchanged: the same server function, form-encoded arguments, the same
//! answers and redirects.

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use serde::de::DeserializeOwned;

/// A server function's arguments as the fields of its form: what a native post would send.
/// Implementations (beside the server functions, in `api`) destructure the arguments without
/// `..`, so a new argument does not compile until it is sent, and a test compares the names
/// with the arguments' own.
pub trait FormFields {
    fn fields(self) -> Vec<(&'static str, String)>;
}

/// One form's server function: the last answer and whether a request is on its way.
pub struct FormPost<S: ServerFn>
where
    S::Output: Send + Sync + 'static,
{
    value: RwSignal<Option<Result<S::Output, AppError>>>,
    pending: RwSignal<bool>,
}

impl<S: ServerFn> Clone for FormPost<S>
where
    S::Output: Send + Sync + 'static,
{
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: ServerFn> Copy for FormPost<S> where S::Output: Send + Sync + 'static {}

impl<S> FormPost<S>
where
    S: ServerFn<Error = AppError> + FormFields,
    S::Output: DeserializeOwned + Clone + Send + Sync + 'static,
{
    /// On the server, the answer starts as the error a native (script-less) post of this form
    /// was redirected back with, as `ServerAction` does: the page shows it beside the form.
    pub fn new() -> Self {
        #[cfg(not(feature = "hydrate"))]
        let first = use_context::<leptos::server::ServerActionError>().and_then(|error| {
            (error.path() == S::PATH).then(|| {
                Err(leptos::server_fn::error::ServerFnUrlError::<AppError>::decode_err(error.err()))
            })
        });
        #[cfg(feature = "hydrate")]
        let first = None;
        FormPost {
            value: RwSignal::new(first),
            pending: RwSignal::new(false),
        }
    }

    /// The last answer, `None` before the first or after [`FormPost::clear`].
    pub fn value(self) -> Signal<Option<Result<S::Output, AppError>>> {
        self.value.into()
    }

    pub fn pending(self) -> Signal<bool> {
        self.pending.into()
    }

    /// Forgets the last answer (the person is typing again).
    pub fn clear(self) {
        self.value.set(None);
    }

    /// Posts `args` as the form's fields. A redirect in the answer is followed with a full page
    /// load, as the server function asks; the form stays busy meanwhile, so a second click
    /// cannot post it again.
    pub fn send(self, args: S) {
        self.pending.set(true);
        let fields = args.fields();
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            match post(S::PATH, &fields).await {
                Answer::Redirect(location) => super::go_to(&location),
                Answer::Done(result) => {
                    self.pending.set(false);
                    self.value.set(Some(decode(result)));
                }
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = fields;
    }
}

impl<S> Default for FormPost<S>
where
    S: ServerFn<Error = AppError> + FormFields,
    S::Output: DeserializeOwned + Clone + Send + Sync + 'static,
{
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "hydrate")]
enum Answer {
    Redirect(String),
    /// The encoded answer of a server function that succeeded, or its error.
    Done(Result<Vec<u8>, AppError>),
}

/// Reads a successful answer as the server function's output type. The only part of a call
/// that depends on the server function: the request itself is [`post`], compiled once for all
/// of them (generic, it was a copy of the whole `fetch` per server function in every island).
#[cfg(feature = "hydrate")]
fn decode<T: DeserializeOwned>(answer: Result<Vec<u8>, AppError>) -> Result<T, AppError> {
    postcard::from_bytes(&answer?).map_err(|_| AppError::Transport("unreadable answer".into()))
}

#[cfg(feature = "hydrate")]
async fn post(path: &str, fields: &[(&'static str, String)]) -> Answer {
    use leptos::server_fn::error::FromServerFnError;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    let failed = |what: &str| Answer::Done(Err(AppError::Transport(what.to_owned())));
    let Ok(body) = web_sys::UrlSearchParams::new() else {
        return failed("no form encoder");
    };
    for (name, value) in fields {
        body.append(name, value);
    }
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&body);
    let Ok(request) = web_sys::Request::new_with_str_and_init(path, &init) else {
        return failed("bad request");
    };
    // The encoding the server functions answer in (rather than a page, as for a native post).
    let _ = request.headers().set("Accept", "application/x-postcard");
    let response: web_sys::Response = match JsFuture::from(window().fetch_with_request(&request))
        .await
        .map(JsCast::dyn_into)
    {
        Ok(Ok(response)) => response,
        _ => return failed("network error"),
    };
    let headers = response.headers();
    if let (Ok(Some(_)), Ok(Some(location))) = (
        headers.get(leptos::server_fn::redirect::REDIRECT_HEADER),
        headers.get("Location"),
    ) {
        // Only to a page of this site: every redirect the server functions make is one of the
        // route table's paths.
        return if is_local_path(&location) {
            Answer::Redirect(location)
        } else {
            failed("an unexpected redirect")
        };
    }
    // An answer from the server function itself, not from a layer in front of it (the origin
    // check's 403, a proxy's 502): only those carry an `AppError`.
    let from_server_fn = matches!(
        headers.get(leptos::server_fn::error::SERVER_FN_ERROR_HEADER),
        Ok(Some(_))
    );
    if !response.ok() && !from_server_fn {
        return failed(&format!("HTTP {}", response.status()));
    }
    let bytes = match response.array_buffer() {
        Ok(buffer) => match JsFuture::from(buffer).await {
            Ok(buffer) => web_sys::js_sys::Uint8Array::new(&buffer).to_vec(),
            Err(_) => return failed("the answer was cut off"),
        },
        Err(_) => return failed("the answer was cut off"),
    };
    Answer::Done(if response.ok() {
        Ok(bytes)
    } else {
        Err(AppError::de(bytes.into()))
    })
}

/// Calls server function `S` with `args`, sent as the fields of its form. When the server
/// function redirects, the page is left for the new address and the future never completes.
pub async fn call<S>(args: S) -> Result<S::Output, AppError>
where
    S: ServerFn<Error = AppError> + FormFields,
    S::Output: DeserializeOwned,
{
    let fields = args.fields();
    #[cfg(feature = "hydrate")]
    {
        match post(S::PATH, &fields).await {
            Answer::Done(result) => decode(result),
            Answer::Redirect(location) => {
                super::go_to(&location);
                std::future::pending().await
            }
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = fields;
        Err(AppError::Transport("not in a browser".to_owned()))
    }
}

#[cfg(any(feature = "hydrate", test))]
/// A path on this site: `/…`, but not `//host` or `/\host`, which browsers read as another site,
/// and nothing with control characters (browsers drop tabs and line breaks: `/\t/host` is
/// `//host`).
fn is_local_path(location: &str) -> bool {
    location.starts_with('/')
        && !location.starts_with("//")
        && !location.starts_with("/\\")
        && !location.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::is_local_path;

    #[test]
    fn only_paths_of_this_site_are_followed() {
        assert!(is_local_path("/settings/security?done=enabled"));
        assert!(is_local_path("/"));
        for elsewhere in [
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/",
            "evil.example",
            "",
            // Browsers drop tabs and line breaks from a URL before reading it: "//evil".
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
        ] {
            assert!(!is_local_path(elsewhere), "{elsewhere}");
        }
    }
}
