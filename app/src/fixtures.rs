//! Fixed, valid-looking values of the wire types, shared by the design gallery (which renders
//! every screen from them) and the unit tests (which drive the wizard's machine with them), so
//! what a designer looks at is what the tests exercise. Never real secrets.

use crate::api::two_factor::{BackupCodeSet, TotpSetup};

/// The account every fixture belongs to.
pub const ACCOUNT: &str = "ann@example.com";

/// A fixed, valid-looking setup: the secret of RFC 6238's test vectors, never a real one.
pub fn totp_setup(replacing: bool) -> TotpSetup {
    // The real QR encoder on the server (the gallery renders there); the browser build, which
    // never renders the gallery, leaves the picture out.
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

/// Ten backup codes in the shape the server issues.
pub fn backup_codes() -> BackupCodeSet {
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
        account: ACCOUNT.into(),
        file_name: "keyward-backup-codes-ann@example.com.txt".into(),
    }
}
