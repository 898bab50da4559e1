//! Fault injection: latency, throttling and server errors, per request.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// Faults the demo endpoint injects before handling each protocol request:
/// sleep `latency_ms`, then answer ThrottlingException with probability
/// `throttle_rate`, else HTTP 500 InternalServiceError with probability
/// `error_rate`.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Faults {
    pub throttle_rate: f64,
    pub error_rate: f64,
    pub latency_ms: u64,
}

/// What a request gets after the dice are rolled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Injected {
    Nothing,
    Throttle,
    ServerError,
}

impl Faults {
    /// Rates must be probabilities.
    pub fn validate(&self) -> Result<(), String> {
        for (name, r) in [
            ("throttle_rate", self.throttle_rate),
            ("error_rate", self.error_rate),
        ] {
            if !(0.0..=1.0).contains(&r) {
                return Err(format!("{name} must be between 0 and 1, got {r}"));
            }
        }
        Ok(())
    }

    pub(crate) fn roll<R: Rng>(&self, rng: &mut R) -> Injected {
        if self.throttle_rate > 0.0 && rng.gen::<f64>() < self.throttle_rate {
            Injected::Throttle
        } else if self.error_rate > 0.0 && rng.gen::<f64>() < self.error_rate {
            Injected::ServerError
        } else {
            Injected::Nothing
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn rates_are_probabilities() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let none = Faults::default();
        assert!((0..1000).all(|_| none.roll(&mut rng) == Injected::Nothing));
        let always = Faults {
            throttle_rate: 1.0,
            ..Faults::default()
        };
        assert!((0..1000).all(|_| always.roll(&mut rng) == Injected::Throttle));
        let errors = Faults {
            error_rate: 1.0,
            ..Faults::default()
        };
        assert!((0..1000).all(|_| errors.roll(&mut rng) == Injected::ServerError));
        assert!(Faults {
            throttle_rate: 1.5,
            ..Faults::default()
        }
        .validate()
        .is_err());
        let partial: Faults = serde_json::from_str(r#"{"latency_ms": 5}"#).unwrap();
        assert_eq!(partial.latency_ms, 5);
        assert_eq!(partial.throttle_rate, 0.0);
    }
}
