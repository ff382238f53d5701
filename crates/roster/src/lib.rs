//! RosterService and CampaignService: what belongs to a brand (API keys, rosters, campaigns,
//! deliverables) and the campaign report.
//!
//! Every handler takes the calling brand from the request (the authentication layer puts it
//! there) and passes it to every store call, so another brand's ids read as absent.

#![cfg_attr(
    test,
    allow(
        unused_crate_dependencies,
        reason = "dev-dependencies serve the integration tests"
    )
)]

mod campaigns;
mod common;
mod planning;
mod rosters;

pub use campaigns::CampaignApi;
pub use rosters::RosterApi;

use resonance_proto::campaign::campaign_service_server::CampaignServiceServer;
use resonance_proto::roster::roster_service_server::RosterServiceServer;

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
