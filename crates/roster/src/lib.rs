//! RosterService and CampaignService.
//!
//! The contracts are served (with health and reflection) so that clients can be built against
//! them; the brand, roster and campaign RPCs themselves answer UNIMPLEMENTED until brand
//! authentication and tenant-scoped storage exist (they must never run without a tenant).

use resonance_proto::campaign::campaign_service_server::{CampaignService, CampaignServiceServer};
use resonance_proto::roster::roster_service_server::{RosterService, RosterServiceServer};
use resonance_proto::tonic;

#[derive(Debug, Clone, Default)]
pub struct RosterApi;

#[derive(Debug, Clone, Default)]
pub struct CampaignApi;

#[tonic::async_trait]
impl RosterService for RosterApi {}

#[tonic::async_trait]
impl CampaignService for CampaignApi {}

impl RosterApi {
    pub fn into_server(self, max_message_bytes: usize) -> RosterServiceServer<Self> {
        RosterServiceServer::new(self).max_decoding_message_size(max_message_bytes)
    }
}

impl CampaignApi {
    pub fn into_server(self, max_message_bytes: usize) -> CampaignServiceServer<Self> {
        CampaignServiceServer::new(self).max_decoding_message_size(max_message_bytes)
    }
}
