//! `--tls`: a self-signed certificate for local HTTPS, generated once into the data dir, so
//! clients that insist on `https` (Okta's Python verifier) can talk to a laptop org.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result};
use axum_server::tls_rustls::RustlsConfig;
use sha2::{Digest, Sha256};

/// Loads `tls-cert.pem` / `tls-key.pem` from `dir`, creating them first if absent. Returns the
/// server config and the certificate's SHA-256 fingerprint (colon-separated hex).
pub async fn self_signed(dir: &Path, listen: SocketAddr) -> Result<(RustlsConfig, String)> {
    // Both ring and aws-lc-rs are linked (through reqwest and axum-server): choose one. An error
    // here means a provider is already installed, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cert_path = dir.join("tls-cert.pem");
    let key_path = dir.join("tls-key.pem");
    if !cert_path.exists() || !key_path.exists() {
        std::fs::create_dir_all(dir)?;
        let mut names = vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "::1".to_string(),
        ];
        names.push(listen.ip().to_string());
        names.dedup();
        let certified =
            rcgen::generate_simple_self_signed(names).context("generating the TLS certificate")?;
        std::fs::write(&cert_path, certified.cert.pem())?;
        let _ = std::fs::remove_file(&key_path);
        super::write_private(&key_path, &certified.key_pair.serialize_pem())?;
    }
    let pem = std::fs::read_to_string(&cert_path)?;
    let der = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>();
    use base64::Engine;
    let der = base64::engine::general_purpose::STANDARD
        .decode(der)
        .context("reading the certificate")?;
    let fingerprint = Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let config = RustlsConfig::from_pem_file(&cert_path, &key_path)
        .await
        .context("loading the TLS certificate")?;
    Ok((config, fingerprint))
}
