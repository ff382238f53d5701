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
        let mut campaign = Request::new(CreateCampaignRequest {
            campaign: Some(Campaign {
                display_name: "Spring launch".to_owned(),
                goal: CampaignGoal::Awareness as i32,
                budget: Some(resonance_proto::common::Money {
                    currency_code: "USD".to_owned(),
                    units: 50_000,
                    nanos: 0,
                }),
                window: Some(resonance_proto::common::TimeWindow {
                    start_time: Some(resonance_proto::prost_types::Timestamp {
                        seconds: 1_790_000_000,
                        nanos: 0,
                    }),
                    end_time: Some(resonance_proto::prost_types::Timestamp {
                        seconds: 1_792_000_000,
                        nanos: 0,
                    }),
                }),
                niches: vec!["food".to_owned()],
                hashtags: vec!["springlaunch".to_owned()],
                ..Default::default()
            }),
            ..Default::default()
        });
        campaign.extensions_mut().insert(fixture.brand);
        fixture
            .runtime
            .block_on(fixture.campaigns.create_campaign(campaign))
            .expect("campaign");
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

mod structured {
    //! Well-formed requests in the order a client would send them. Campaigns: create one,
    //! give it a deliverable, update it under any mask, move it to any status, and read its
    //! report. Rosters: create one, add an entry, update both under any mask and etag, list,
    //! read and delete. Plans: any candidates (explicit, with any audience, a roster, or a
    //! filter), goal, budget and constraints. Values are mostly what a client would send,
    //! sometimes anything the wire allows, so that about half the creates succeed and the calls
    //! after them reach the store and the workflow rules; none may fail INTERNAL or leak.

    use proptest::prelude::*;
    use resonance_proto::campaign::campaign_service_server::CampaignService as _;
    use resonance_proto::campaign::deliverable::Kind;
    use resonance_proto::campaign::*;
    use resonance_proto::common::{CreatorRef, Money, TimeWindow};
    use resonance_proto::prost_types::{FieldMask, Timestamp};
    use resonance_proto::roster::roster_service_server::RosterService as _;
    use resonance_proto::roster::{
        CreateRosterEntryRequest, CreateRosterRequest, DeleteRosterEntryRequest,
        DeleteRosterRequest, GetRosterEntryRequest, ListRosterEntriesRequest, Rate, Roster,
        RosterEntry, UpdateRosterEntryRequest, UpdateRosterRequest,
    };
    use resonance_proto::tonic::{Request, Status};

    use super::{clean, fixture};

    fn any_time() -> impl Strategy<Value = Option<Timestamp>> {
        prop::option::of(prop_oneof![
            (1_700_000_000_i64..1_900_000_000, 0..1_000_000_000_i32)
                .prop_map(|(seconds, nanos)| Timestamp { seconds, nanos }),
            (any::<i64>(), any::<i32>()).prop_map(|(seconds, nanos)| Timestamp { seconds, nanos }),
        ])
    }

    fn any_window() -> impl Strategy<Value = Option<TimeWindow>> {
        prop::option::of(
            (any_time(), any_time()).prop_map(|(start_time, end_time)| TimeWindow {
                start_time,
                end_time,
            }),
        )
    }

    fn any_text() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            "[a-z0-9_]{1,20}",
            any::<String>().prop_map(|s| s.chars().take(120).collect()),
        ]
    }

    /// Mostly values a client would send, sometimes anything: so that requests get past
    /// validation often enough to reach the store and the workflow rules.
    fn enum_value(valid: std::ops::RangeInclusive<i32>) -> impl Strategy<Value = i32> {
        prop_oneof![8 => valid, 1 => any::<i32>()]
    }

    fn name_like() -> impl Strategy<Value = String> {
        prop_oneof![8 => "[A-Za-z][A-Za-z0-9 ]{0,30}", 1 => any_text()]
    }

    fn tag_like() -> impl Strategy<Value = String> {
        prop_oneof![8 => "[a-z][a-z0-9]{0,15}", 1 => any_text()]
    }

    fn sane_window() -> impl Strategy<Value = Option<TimeWindow>> {
        prop_oneof![
            8 => (1_760_000_000_i64..1_900_000_000, 1_i64..10_000_000).prop_map(|(start, length)| {
                Some(TimeWindow {
                    start_time: Some(Timestamp { seconds: start, nanos: 0 }),
                    end_time: Some(Timestamp { seconds: start + length, nanos: 0 }),
                })
            }),
            1 => any_window(),
        ]
    }

    fn sane_money() -> impl Strategy<Value = Option<Money>> {
        prop_oneof![
            8 => (0_i64..10_000_000).prop_map(|units| Some(Money {
                currency_code: "USD".to_owned(),
                units,
                nanos: 0,
            })),
            1 => any_money(),
        ]
    }

    fn any_money() -> impl Strategy<Value = Option<Money>> {
        prop::option::of(
            (
                prop_oneof![Just("USD".to_owned()), any_text()],
                any::<i64>(),
                any::<i32>(),
            )
                .prop_map(|(currency_code, units, nanos)| Money {
                    currency_code,
                    units,
                    nanos,
                }),
        )
    }

    fn any_campaign() -> impl Strategy<Value = Campaign> {
        (
            name_like(),
            enum_value(1..=3),
            sane_money(),
            sane_window(),
            prop::collection::vec(prop_oneof![4 => Just("food".to_owned()), 1 => any_text()], 0..2),
            prop::collection::vec(enum_value(1..=7), 0..3),
            prop::collection::vec(tag_like(), 0..3),
            prop::collection::vec(tag_like(), 0..3),
            prop::collection::vec(tag_like(), 0..3),
            prop_oneof![6 => Just(String::new()), 1 => Just("rosters/1".to_owned()), 1 => any_text()],
        )
            .prop_map(
                |(
                    display_name,
                    goal,
                    budget,
                    window,
                    niches,
                    platforms,
                    hashtags,
                    mentions,
                    promo_codes,
                    roster,
                )| Campaign {
                    display_name,
                    goal,
                    budget,
                    window,
                    niches,
                    platforms,
                    hashtags,
                    mentions,
                    promo_codes,
                    roster,
                    ..Default::default()
                },
            )
    }

    fn any_creator() -> impl Strategy<Value = Option<CreatorRef>> {
        prop::option::weighted(
            0.9,
            (
                enum_value(1..=7),
                prop_oneof![8 => "[a-z][a-z0-9._]{2,20}", 1 => any_text()],
            )
                .prop_map(|(platform, handle)| CreatorRef { platform, handle }),
        )
    }

    fn any_deliverable() -> impl Strategy<Value = Deliverable> {
        let creator = any_creator();
        let kind = prop::option::weighted(
            0.9,
            prop_oneof![
                (any_creator(), sane_window())
                    .prop_map(|(account, window)| Kind::Takeover(Takeover { account, window })),
                (
                    name_like(),
                    prop_oneof![4 => 1..100_i32, 1 => any::<i32>()],
                    enum_value(0..=4),
                    any::<bool>()
                )
                    .prop_map(|(product, quantity, shipment_status, posted)| {
                        Kind::ProductSeeding(ProductSeeding {
                            product,
                            quantity,
                            shipment_status,
                            posted,
                        })
                    }),
                (enum_value(0..=4), any_time(), enum_value(0..=4), any_text()).prop_map(
                    |(format, due_time, review_status, content_url)| Kind::SponsoredContent(
                        SponsoredContent {
                            format,
                            due_time,
                            review_status,
                            content_url,
                        }
                    )
                ),
            ],
        );
        (
            creator,
            kind,
            sane_money(),
            enum_value(0..=3),
            tag_like(),
            any_text(),
        )
            .prop_map(
                |(creator, kind, fee, payment_status, promo_code, tracking_url)| Deliverable {
                    creator,
                    kind,
                    fee,
                    payment_status,
                    promo_code,
                    tracking_url,
                    ..Default::default()
                },
            )
    }

    /// A field mask of some of `fields`, or of anything.
    fn mask_of(fields: &'static [&'static str]) -> impl Strategy<Value = Option<FieldMask>> {
        prop::option::of(
            prop::collection::vec(
                prop_oneof![
                    6 => prop::sample::select(fields).prop_map(str::to_owned),
                    1 => any_text(),
                ],
                0..4,
            )
            .prop_map(|paths| FieldMask { paths }),
        )
    }

    fn any_mask() -> impl Strategy<Value = Option<FieldMask>> {
        mask_of(&[
            "display_name",
            "budget",
            "window",
            "hashtags",
            "promo_codes",
            "goal",
            "status",
        ])
    }

    fn any_entry() -> impl Strategy<Value = RosterEntry> {
        (
            any_creator(),
            prop_oneof![6 => Just(String::new()), 1 => any_text()],
            enum_value(0..=6),
            any_text(),
            prop::collection::vec(
                (
                    prop_oneof![4 => Just("post".to_owned()), 1 => any_text()],
                    sane_money(),
                )
                    .prop_map(|(deliverable, price)| Rate { deliverable, price }),
                0..3,
            ),
        )
            .prop_map(
                |(creator, creator_name, status, notes, rates)| RosterEntry {
                    creator,
                    creator_name,
                    status,
                    notes,
                    rates,
                    ..Default::default()
                },
            )
    }

    fn any_entry_mask() -> impl Strategy<Value = Option<FieldMask>> {
        mask_of(&[
            "status",
            "notes",
            "rates",
            "creator",
            "display_name",
            "description",
        ])
    }

    /// An etag: none, a plausible stale one, or anything.
    fn any_etag() -> impl Strategy<Value = String> {
        prop_oneof![4 => Just(String::new()), 1 => "W/\"[0-9a-f]{1,16}\"", 1 => any_text()]
    }

    fn any_candidate() -> impl Strategy<Value = PlanCandidate> {
        use plan_candidate::Audience;
        (
            prop_oneof![4 => "[a-z]{1,8}", 1 => any_text()],
            any_creator(),
            sane_money(),
            prop_oneof![
                4 => 0.0..100_000.0_f64,
                1 => any::<f64>(),
            ],
            enum_value(0..=4),
            prop::collection::vec(
                prop_oneof![4 => Just("food".to_owned()), 1 => any_text()],
                0..2,
            ),
            prop_oneof![4 => 1_000_i64..5_000_000, 1 => any::<i64>()],
            prop::option::of(prop_oneof![
                prop::collection::vec(prop_oneof![4 => 0..2_000_u64, 1 => any::<u64>()], 0..200)
                    .prop_map(|member_ids| Audience::Members(AudienceMembers { member_ids })),
                prop::collection::vec(any::<u8>(), 0..64).prop_map(Audience::Sketch),
            ]),
        )
            .prop_map(
                |(id, creator, cost, expected_engagements, tier, niches, followers, audience)| {
                    PlanCandidate {
                        id,
                        creator,
                        cost,
                        expected_engagements,
                        tier,
                        niches,
                        followers,
                        audience,
                    }
                },
            )
    }

    fn any_constraints() -> impl Strategy<Value = Option<PlanConstraints>> {
        let small = || prop_oneof![6 => 0..10_i32, 1 => any::<i32>()];
        prop::option::of(
            (
                small(),
                small(),
                prop_oneof![4 => 0.0..1.0_f64, 1 => any::<f64>()],
                prop::collection::vec(
                    (
                        prop::option::of(prop_oneof![
                            tag_like().prop_map(quota::Key::Niche),
                            enum_value(1..=7).prop_map(quota::Key::Platform),
                        ]),
                        small(),
                        small(),
                    )
                        .prop_map(|(key, min_creators, max_creators)| Quota {
                            key,
                            min_creators,
                            max_creators,
                        }),
                    0..3,
                ),
                prop::option::of(small()),
                prop::collection::vec("[a-z]{1,8}", 0..2),
                prop::collection::vec("[a-z]{1,8}", 0..2),
            )
                .prop_map(
                    |(
                        min_creators,
                        max_creators,
                        max_budget_share_per_creator,
                        quotas,
                        max_celebrities,
                        required,
                        excluded,
                    )| PlanConstraints {
                        min_creators,
                        max_creators,
                        max_budget_share_per_creator,
                        quotas,
                        max_celebrities,
                        required,
                        excluded,
                    },
                ),
        )
    }

    fn any_candidates() -> impl Strategy<Value = Option<plan_campaign_request::Candidates>> {
        use plan_campaign_request::Candidates;
        prop::option::weighted(
            0.95,
            prop_oneof![
                6 => prop::collection::vec(any_candidate(), 0..12)
                    .prop_map(|candidates| Candidates::Explicit(CandidateList { candidates })),
                1 => prop_oneof![3 => Just("rosters/1".to_owned()), 1 => any_text()]
                    .prop_map(Candidates::Roster),
                1 => (
                    prop::collection::vec(enum_value(1..=7), 0..2),
                    prop::collection::vec(tag_like(), 0..2),
                    prop::collection::vec(enum_value(1..=4), 0..2),
                    prop_oneof![4 => 0.0..1.0_f64, 1 => any::<f64>()],
                    prop_oneof![4 => 0..50_i32, 1 => any::<i32>()],
                )
                    .prop_map(|(platforms, niches, tiers, min_authenticity, max_candidates)| {
                        Candidates::Filter(CandidateFilter {
                            platforms,
                            niches,
                            tiers,
                            min_authenticity,
                            max_candidates,
                        })
                    }),
            ],
        )
    }

    fn as_brand<T>(message: T) -> Request<T> {
        let mut request = Request::new(message);
        request.extensions_mut().insert(fixture().brand);
        request
    }

    proptest! {
        #[test]
        fn a_campaign_lifecycle_with_any_values_is_handled_without_panicking(
            campaign in any_campaign(),
            deliverable in any_deliverable(),
            update in any_campaign(),
            mask in any_mask(),
            status in enum_value(1..=5),
        ) {
            let f = fixture();
            let outcomes = f.runtime.block_on(async {
                let mut outcomes: Vec<(&str, Result<(), Status>)> = Vec::new();
                let created = f
                    .campaigns
                    .create_campaign(as_brand(CreateCampaignRequest {
                        campaign: Some(campaign),
                        request_id: String::new(),
                    }))
                    .await
                    .map(|r| r.into_inner().campaign.unwrap_or_default());
                let name = match &created {
                    Ok(campaign) => campaign.name.clone(),
                    Err(_) => "campaigns/1".to_owned(),
                };
                outcomes.push(("create_campaign", created.map(drop)));
                let parent = name.clone();
                outcomes.push((
                    "create_deliverable",
                    f.campaigns
                        .create_deliverable(as_brand(CreateDeliverableRequest {
                            parent,
                            deliverable: Some(deliverable),
                            request_id: String::new(),
                        }))
                        .await
                        .map(drop),
                ));
                outcomes.push((
                    "update_campaign",
                    f.campaigns
                        .update_campaign(as_brand(UpdateCampaignRequest {
                            campaign: Some(Campaign {
                                name: name.clone(),
                                ..update
                            }),
                            update_mask: mask,
                        }))
                        .await
                        .map(drop),
                ));
                outcomes.push((
                    "transition_campaign",
                    f.campaigns
                        .transition_campaign(as_brand(TransitionCampaignRequest {
                            name: name.clone(),
                            status,
                            etag: String::new(),
                        }))
                        .await
                        .map(drop),
                ));
                outcomes.push((
                    "get_campaign_report",
                    f.campaigns
                        .get_campaign_report(as_brand(GetCampaignReportRequest { campaign: name }))
                        .await
                        .map(drop),
                ));
                outcomes
            });
            answered_cleanly(&outcomes)?;
        }

        #[test]
        fn a_roster_lifecycle_with_any_values_is_handled_without_panicking(
            roster in (name_like(), any_text()),
            entry in any_entry(),
            update in any_entry(),
            mask in any_entry_mask(),
            roster_mask in any_entry_mask(),
            etag in any_etag(),
            page in (prop_oneof![4 => 0..50_i32, 1 => any::<i32>()], any_text(), any_text()),
        ) {
            let f = fixture();
            let outcomes = f.runtime.block_on(async {
                let mut outcomes: Vec<(&str, Result<(), Status>)> = Vec::new();
                let created = f
                    .rosters
                    .create_roster(as_brand(CreateRosterRequest {
                        roster: Some(Roster {
                            display_name: roster.0,
                            description: roster.1,
                            ..Default::default()
                        }),
                        request_id: String::new(),
                    }))
                    .await
                    .map(|r| r.into_inner().roster.unwrap_or_default());
                let parent = match &created {
                    Ok(roster) => roster.name.clone(),
                    Err(_) => "rosters/1".to_owned(),
                };
                outcomes.push(("create_roster", created.map(drop)));
                let added = f
                    .rosters
                    .create_roster_entry(as_brand(CreateRosterEntryRequest {
                        parent: parent.clone(),
                        entry: Some(entry),
                        request_id: String::new(),
                    }))
                    .await
                    .map(|r| r.into_inner().entry.unwrap_or_default());
                let name = match &added {
                    Ok(entry) => entry.name.clone(),
                    Err(_) => format!("{parent}/entries/1"),
                };
                outcomes.push(("create_roster_entry", added.map(drop)));
                outcomes.push((
                    "update_roster_entry",
                    f.rosters
                        .update_roster_entry(as_brand(UpdateRosterEntryRequest {
                            entry: Some(RosterEntry {
                                name: name.clone(),
                                etag: etag.clone(),
                                ..update
                            }),
                            update_mask: mask,
                        }))
                        .await
                        .map(drop),
                ));
                outcomes.push((
                    "update_roster",
                    f.rosters
                        .update_roster(as_brand(UpdateRosterRequest {
                            roster: Some(Roster {
                                name: parent.clone(),
                                display_name: page.1.clone(),
                                etag: etag.clone(),
                                ..Default::default()
                            }),
                            update_mask: roster_mask,
                        }))
                        .await
                        .map(drop),
                ));
                outcomes.push((
                    "list_roster_entries",
                    f.rosters
                        .list_roster_entries(as_brand(ListRosterEntriesRequest {
                            parent: parent.clone(),
                            page_size: page.0,
                            page_token: page.2.clone(),
                            ..Default::default()
                        }))
                        .await
                        .map(drop),
                ));
                outcomes.push((
                    "get_roster_entry",
                    f.rosters
                        .get_roster_entry(as_brand(GetRosterEntryRequest { name: name.clone() }))
                        .await
                        .map(drop),
                ));
                outcomes.push((
                    "delete_roster_entry",
                    f.rosters
                        .delete_roster_entry(as_brand(DeleteRosterEntryRequest {
                            name,
                            etag: etag.clone(),
                        }))
                        .await
                        .map(drop),
                ));
                // Leave the fixture's roster 1 for the other cases.
                if parent != "rosters/1" {
                    outcomes.push((
                        "delete_roster",
                        f.rosters
                            .delete_roster(as_brand(DeleteRosterRequest { name: parent, etag }))
                            .await
                            .map(drop),
                    ));
                }
                outcomes
            });
            answered_cleanly(&outcomes)?;
        }

        #[test]
        fn a_plan_with_any_candidates_and_constraints_is_handled_without_panicking(
            campaign in prop_oneof![4 => Just("campaigns/1".to_owned()), 1 => any_text()],
            candidates in any_candidates(),
            goal in enum_value(0..=3),
            budget in sane_money(),
            constraints in any_constraints(),
            save in any::<bool>(),
            deliverable in prop_oneof![4 => Just(String::new()), 1 => any_text()],
        ) {
            let f = fixture();
            let outcome = f.runtime.block_on(f.campaigns.plan_campaign(as_brand(
                PlanCampaignRequest {
                    campaign,
                    candidates,
                    goal,
                    budget,
                    constraints,
                    save,
                    deliverable,
                },
            )));
            answered_cleanly(&[("plan_campaign", outcome.map(drop))])?;
        }
    }

    /// No call failed INTERNAL (a bug, not a bad request), and no refusal leaks internals.
    fn answered_cleanly(outcomes: &[(&str, Result<(), Status>)]) -> Result<(), TestCaseError> {
        for (method, outcome) in outcomes {
            if let Err(status) = outcome {
                prop_assert!(
                    status.code() != resonance_proto::tonic::Code::Internal,
                    "{method}: {status:?}"
                );
                clean(method, status)?;
            }
        }
        Ok(())
    }
}
