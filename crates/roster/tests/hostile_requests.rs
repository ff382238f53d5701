#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! Hostile requests to RosterService and CampaignService, straight into their handlers as an
//! authenticated brand: arbitrary bytes decoded as every request message of both services. No
//! handler may panic, and a refusal's message may not contain SQL, a database name, a file path
//! or a panic. The store holds a roster and a campaign with id 1, so some names resolve.

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use resonance_core::campaign::report::ReportConfig;
use resonance_core::{ScoringConfig, ScoringModel};
use resonance_proto::campaign::campaign_service_server::CampaignService;
use resonance_proto::campaign::*;
use resonance_proto::prost::Message;
use resonance_proto::roster::roster_service_server::RosterService;
use resonance_proto::roster::*;
use resonance_proto::tonic::{Request, Status};
use resonance_roster::{CampaignApi, RosterApi};
use resonance_store::BrandId;
use resonance_store::testing::{Backend, TestDatabase};

struct Fixture {
    runtime: tokio::runtime::Runtime,
    rosters: RosterApi,
    campaigns: CampaignApi,
    brand: BrandId,
    _database: TestDatabase,
}

/// One store and both services for all cases.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (database, store, brand) = runtime.block_on(async {
            let (database, store) = TestDatabase::store(Backend::Sqlite).await.expect("store");
            let (brand, _) = store
                .brands()
                .create("Acme", chrono::Utc::now())
                .await
                .expect("brand");
            (database, store, brand.id)
        });
        let model = Arc::new(ScoringModel::new(&ScoringConfig::default()).expect("model"));
        let fixture = Fixture {
            rosters: RosterApi::new(store.clone()),
            campaigns: CampaignApi::new(store, model, ReportConfig::default()),
            runtime,
            brand,
            _database: database,
        };
        // Something for names to point at.
        let mut roster = Request::new(CreateRosterRequest {
            roster: Some(Roster {
                display_name: "Spring".to_owned(),
                ..Default::default()
            }),
            ..Default::default()
        });
        roster.extensions_mut().insert(fixture.brand);
        fixture
            .runtime
            .block_on(fixture.rosters.create_roster(roster))
            .expect("roster");
        fixture
    })
}

/// A refusal must say what is wrong without internals.
fn clean(method: &str, status: &Status) -> Result<(), TestCaseError> {
    let message = status.message().to_lowercase();
    for leak in [
        "select ", "insert ", "sqlite", "postgres", "/tmp", "panicked", ".rs:",
    ] {
        prop_assert!(!message.contains(leak), "{method}: {status:?}");
    }
    Ok(())
}

/// Decodes `bytes` as each request type and calls its handler as the fixture's brand.
macro_rules! call_each {
    ($fixture:expr, $bytes:expr, $outcomes:ident; $($service:ident . $method:ident($message:ty)),* $(,)?) => {
        $(
            if let Ok(message) = <$message>::decode($bytes) {
                let mut request = Request::new(message);
                request.extensions_mut().insert($fixture.brand);
                $outcomes.push((stringify!($method), $fixture.$service.$method(request).await.map(drop)));
            }
        )*
    };
}

proptest! {
    #[test]
    fn arbitrary_bytes_as_every_request_are_handled_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let f = fixture();
        let bytes = bytes.as_slice();
        let outcomes = f.runtime.block_on(async {
            let mut outcomes: Vec<(&str, Result<(), Status>)> = Vec::new();
            call_each!(f, bytes, outcomes;
                rosters.get_brand(GetBrandRequest),
                rosters.create_api_key(CreateApiKeyRequest),
                rosters.list_api_keys(ListApiKeysRequest),
                rosters.revoke_api_key(RevokeApiKeyRequest),
                rosters.create_roster(CreateRosterRequest),
                rosters.get_roster(GetRosterRequest),
                rosters.list_rosters(ListRostersRequest),
                rosters.update_roster(UpdateRosterRequest),
                rosters.delete_roster(DeleteRosterRequest),
                rosters.create_roster_entry(CreateRosterEntryRequest),
                rosters.get_roster_entry(GetRosterEntryRequest),
                rosters.list_roster_entries(ListRosterEntriesRequest),
                rosters.update_roster_entry(UpdateRosterEntryRequest),
                rosters.delete_roster_entry(DeleteRosterEntryRequest),
                campaigns.create_campaign(CreateCampaignRequest),
                campaigns.get_campaign(GetCampaignRequest),
                campaigns.list_campaigns(ListCampaignsRequest),
                campaigns.update_campaign(UpdateCampaignRequest),
                campaigns.transition_campaign(TransitionCampaignRequest),
                campaigns.create_deliverable(CreateDeliverableRequest),
                campaigns.get_deliverable(GetDeliverableRequest),
                campaigns.list_deliverables(ListDeliverablesRequest),
                campaigns.update_deliverable(UpdateDeliverableRequest),
                campaigns.delete_deliverable(DeleteDeliverableRequest),
                campaigns.plan_campaign(PlanCampaignRequest),
                campaigns.get_campaign_plan(GetCampaignPlanRequest),
                campaigns.get_campaign_report(GetCampaignReportRequest),
                campaigns.list_campaign_posts(ListCampaignPostsRequest),
            );
            outcomes
        });
        for (method, outcome) in &outcomes {
            if let Err(status) = outcome {
                clean(method, status)?;
            }
        }
    }
}
