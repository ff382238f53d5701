//! Calling the services as a brand: every call carries the brand's API key.

use tonic::metadata::errors::InvalidMetadataValue;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::{Request, Status};

/// Adds a brand's API key to every call, as `authorization: Bearer <key>`:
/// `ScoringServiceClient::with_interceptor(channel, WithKey::new(&key)?)`.
#[derive(Debug, Clone)]
pub struct WithKey(MetadataValue<Ascii>);

impl WithKey {
    /// Fails only for a key that cannot be a header value (not visible ASCII).
    pub fn new(key: &str) -> Result<Self, InvalidMetadataValue> {
        Ok(Self(format!("Bearer {key}").parse()?))
    }
}

impl Interceptor for WithKey {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}
