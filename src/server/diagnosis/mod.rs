//! Gathering what a rotation diagnosis reads: the rotation Lambda, its
//! network, the secret's KMS key and the Lambda role's permissions, through
//! the AWS SDK. First its settings (`[diagnosis]`).

mod settings;

pub use settings::DiagnosisSettings;
