//! rustls client configurations for PostgreSQL (libpq's `sslmode`) and Kafka: trust roots from a PEM
//! file (the RDS CA bundle, a private CA) or the system's, and how much of the server's certificate
//! is verified.
//!
//! The ring provider is named explicitly: rskafka builds rustls with ring while the AWS SDK brings
//! aws-lc-rs, and rustls refuses to pick a process default when both are compiled in.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

/// What of the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Encrypt only (libpq's `prefer` and `require`): any certificate is accepted.
    Nothing,
    /// The certificate chains to a trusted root, whatever name it carries (`verify-ca`).
    Chain,
    /// The chain and the host name (`verify-full`, and Kafka's default).
    ChainAndHost,
}

/// A TLS configuration that cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The CA file cannot be read, or is not PEM.
    #[error("cannot read CA certificates from {path}")]
    ReadRoots {
        /// The CA file (`database.sslrootcert` or `kafka.ssl.truststore.location`).
        path: PathBuf,
        /// What reading or decoding it failed on.
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// The CA file is PEM but has no certificate rustls accepts as a root.
    #[error("{path} holds no usable PEM CA certificate")]
    NoRoots {
        /// The CA file.
        path: PathBuf,
    },
    /// No CA file is named and the system's trust store yields no root.
    #[error("the system has no usable CA certificates: name a PEM file of CA certificates")]
    NoSystemRoots,
    /// rustls could not set up the protocol versions or the certificate verifier.
    #[error("cannot build the TLS configuration")]
    Rustls(#[source] Box<dyn std::error::Error + Send + Sync>),
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The roots in `ca_file`, or the system's when it is `None`.
///
/// # Errors
/// A [`TlsError`] naming the file.
pub fn root_store(ca_file: Option<&Path>) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
                .map_err(|source| TlsError::ReadRoots {
                    path: path.to_owned(),
                    source,
                })?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(TlsError::NoRoots {
                    path: path.to_owned(),
                });
            }
        }
        None => {
            let (added, _) =
                roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            if added == 0 {
                return Err(TlsError::NoSystemRoots);
            }
        }
    }
    Ok(roots)
}

/// A client configuration that trusts `ca_file` (or the system's roots) and verifies `verify`.
///
/// # Errors
/// A [`TlsError`] when the roots cannot be read.
pub fn client_config(ca_file: Option<&Path>, verify: Verify) -> Result<ClientConfig, TlsError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|err| TlsError::Rustls(err.into()))?;
    let webpki = || {
        WebPkiServerVerifier::builder_with_provider(
            Arc::new(root_store(ca_file)?),
            Arc::clone(&provider),
        )
        .build()
        .map_err(|err| TlsError::Rustls(err.into()))
    };
    let verifier: Arc<dyn ServerCertVerifier> = match verify {
        Verify::ChainAndHost => webpki()?,
        Verify::Chain => Arc::new(Lenient {
            chain: Some(webpki()?),
            algorithms: provider.signature_verification_algorithms,
        }),
        Verify::Nothing => Arc::new(Lenient {
            chain: None,
            algorithms: provider.signature_verification_algorithms,
        }),
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// libpq's `require` (no `chain`: the certificate is not checked, the connection only encrypted) and
/// `verify-ca` (the full webpki verification of `chain`, except that a certificate naming another
/// host is accepted). The handshake's signatures are checked either way, with the provider's
/// algorithms as webpki checks them, so the peer holds the key of the certificate it sent.
#[derive(Debug)]
struct Lenient {
    chain: Option<Arc<WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
