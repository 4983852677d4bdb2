//! A cold start, the same for every command: the properties read from the file and the
//! environment, their secret references resolved, parsed and validated once; the AWS configuration
//! loaded at most once and shared by everything that reaches AWS.

use std::sync::Arc;

use aws_config::SdkConfig;
use tokio::sync::OnceCell;
use walbridge_config::{CheckStatus, Config, ConfigError, ValidationReport};

use crate::error_chain;
use crate::invocation::Deps;
use crate::secrets::{self, SecretError};

/// The AWS configuration (region, credential chain), loaded on first use and then shared: by the
/// secret references, the S3 checkpoint store and every MSK IAM authentication.
#[derive(Debug, Clone, Default)]
pub struct Aws(Arc<OnceCell<SdkConfig>>);

impl Aws {
    /// The configuration, loaded from the environment the first time.
    pub async fn config(&self) -> &SdkConfig {
        // Boxed: loading builds a large future, needed once per cold start.
        (self.0)
            .get_or_init(|| Box::pin(aws_config::load_from_env()))
            .await
    }
}

/// Why a cold start has no configuration to run with.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The `.properties` file named by `WALBRIDGE_PROPERTIES` cannot be read.
    #[error("cannot read the configuration")]
    Read(#[source] ConfigError),
    /// Secret references that could not be resolved, one message each (never a secret's value).
    #[error("cannot resolve secret references: {}", .0.join("; "))]
    Secrets(Vec<String>),
    /// The properties were read and resolved, but do not make a configuration.
    #[error("invalid walbridge configuration")]
    Invalid(#[source] ConfigError),
}

/// What a cold start read: the configuration (or why there is none) and every property's verdict.
#[derive(Debug)]
pub struct Bootstrap {
    config: Result<Config, StartError>,
    report: ValidationReport,
    aws: Aws,
}

impl Bootstrap {
    /// Reads the configuration from `WALBRIDGE_PROPERTIES` and the environment.
    ///
    /// # Errors
    /// [`StartError::Read`] when the properties file cannot be read.
    pub async fn from_env(aws: Aws) -> Result<Self, StartError> {
        let (file, env) = Config::env_sources().map_err(StartError::Read)?;
        let mut props = walbridge_config::merge_sources(file, &env);
        let secret_errors = if secrets::has_references(&props) {
            secrets::resolve(&mut props, aws.config().await).await
        } else {
            Vec::new()
        };
        let (config, mut report) = walbridge_config::validate_properties(&props);
        for err in &secret_errors {
            report.push_property_error(err.key(), error_chain(err));
        }
        let config = match config {
            _ if !secret_errors.is_empty() => Err(StartError::Secrets(
                secret_errors
                    .iter()
                    .map(|e: &SecretError| error_chain(e))
                    .collect(),
            )),
            Ok(config) => Ok(config),
            Err(err) => Err(StartError::Invalid(err)),
        };
        Ok(Self {
            config,
            report,
            aws,
        })
    }

    /// The clients for serving invocations.
    ///
    /// # Errors
    /// Why there is no configuration to run with.
    pub async fn deps(self) -> Result<Deps, StartError> {
        let config = self.config?;
        Ok(Deps::with_aws(config, self.aws)
            .await
            .with_report(self.report))
    }

    /// `validate`: the properties' report, and the live checks when the properties are valid.
    pub async fn validate(self) -> ValidationReport {
        match self.config {
            Ok(config) => {
                let deps = Deps::with_aws(config, self.aws)
                    .await
                    .with_report(self.report);
                crate::invocation::validate(&deps).await
            }
            Err(_) => {
                let mut report = self.report;
                report.push_check(
                    "live checks",
                    CheckStatus::Skipped,
                    "fix the property errors first",
                );
                report
            }
        }
    }
}
