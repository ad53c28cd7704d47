//! What an island needs from the server (the password policy, the account's address, ...),
//! handed over without island props.
//!
//! Leptos decodes island props with `serde_json`; its decoder, and the float formatting its error
//! messages pull in, came to about 15 KB (brotli) on every page with such an island. Instead the
//! page hands the island one value of the island's own data type: through the reactive context
//! while the page renders on the server, and in the browser from a hidden element carrying the
//! value in postcard (base64), the encoding the server functions answer in, whose decoder the
//! WebAssembly has anyway. The browser's own `atob` reads the base64, so no decoder for it is
//! downloaded either.

use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The data of one island. Each island has its own type, so its value is found by type on the
/// server and by [`IslandData::ELEMENT_ID`] in the page. `Default` is only what an island falls
/// back to if a page forgot to hand its data over, which is logged as an error.
pub trait IslandData:
    Serialize + DeserializeOwned + Default + Clone + Send + Sync + 'static
{
    /// The id of the hidden element that carries the value in the page.
    const ELEMENT_ID: &'static str;
}

/// Called by the page just before it renders the island: provides `data` to the island being
/// rendered on the server, and returns the hidden element that carries it to the browser.
pub fn hand_to_island<T: IslandData>(data: T) -> impl IntoView {
    let encoded = encode(&data);
    provide_context(data);
    view! { <div hidden id=T::ELEMENT_ID data-value=encoded></div> }
}

/// Called by the island: its data, as the page handed it over.
pub fn island_data<T: IslandData>() -> T {
    #[cfg(feature = "hydrate")]
    let handed = read_from_page::<T>();
    #[cfg(not(feature = "hydrate"))]
    let handed = use_context::<T>();
    handed.unwrap_or_else(|| {
        // A page bug: the browser console or the server log says so (a router test checks
        // that the sign-up page hands over the configured policy).
        leptos::logging::error!("no island data #{} was handed over", T::ELEMENT_ID);
        T::default()
    })
}

fn encode<T: Serialize>(data: &T) -> String {
    use base64::Engine as _;
    // Encoding plain data into a vector cannot fail.
    let bytes = postcard::to_allocvec(data).unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(feature = "hydrate")]
fn read_from_page<T: IslandData>() -> Option<T> {
    let element = document().get_element_by_id(T::ELEMENT_ID)?;
    let encoded = element.get_attribute("data-value")?;
    // `atob` answers one character per byte (U+0000 to U+00FF).
    let binary = window().atob(&encoded).ok()?;
    let bytes: Vec<u8> = binary
        .chars()
        .map(|c| u8::try_from(u32::from(c)))
        .collect::<Result<_, _>>()
        .ok()?;
    postcard::from_bytes(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::PasswordPolicy;

    #[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Example {
        policy: PasswordPolicy,
        account: String,
    }

    #[test]
    fn the_encoding_round_trips_and_fits_an_attribute() {
        let value = Example {
            policy: PasswordPolicy::default(),
            account: "ann@example.com".to_owned(),
        };
        let encoded = encode(&value);
        // What the browser's `atob` reads.
        assert!(
            encoded
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c)),
            "{encoded}"
        );
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&encoded)
            .unwrap();
        assert_eq!(postcard::from_bytes::<Example>(&bytes).unwrap(), value);
    }
}
