#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! PlanCampaign over gRPC: explicit what-if candidates with exact audiences (the plan checked by
//! hand), saved plans, bad input named by field, another brand's campaign; and a plan from a
//! roster of stored, scored creators with ingested audiences.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use resonance_proto::campaign::campaign_service_client::CampaignServiceClient;
use resonance_proto::campaign::{
    self as cpb, AudienceMembers, CampaignGoal, CampaignStatus, PlanCandidate,
    plan_campaign_request::Candidates, plan_candidate,
};
use resonance_proto::common::{CreatorRef, Money, Platform, Tier, TimeWindow};
use resonance_proto::ingest::ingest_service_client::IngestServiceClient;
use resonance_proto::ingest::{
    AudienceRecord, IngestRecordsRequest, Record, record::Kind as RecordKind,
};
use resonance_proto::prost_types;
use resonance_proto::roster::roster_service_client::RosterServiceClient;
use resonance_proto::roster::{self as rpb};
use resonance_proto::tonic::Code;
use resonance_tests::{KeyedChannel, TestApp, backends, profile_record as profile};

fn usd(units: i64) -> Money {
    Money {
        currency_code: "USD".to_owned(),
        units,
        nanos: 0,
    }
}

fn candidate(id: &str, dollars: i64, members: std::ops::Range<u64>, tier: Tier) -> PlanCandidate {
    PlanCandidate {
        id: id.to_owned(),
        creator: Some(CreatorRef {
            platform: Platform::Instagram as i32,
            handle: format!("{id}.handle"),
        }),
        cost: Some(usd(dollars)),
        expected_engagements: 10.0,
        tier: tier as i32,
        niches: vec!["food".to_owned()],
        followers: if tier == Tier::Mega {
            2_000_000
        } else {
            50_000
        },
        audience: Some(plan_candidate::Audience::Members(AudienceMembers {
            member_ids: members.collect(),
        })),
    }
}

async fn create_campaign(
    campaigns: &mut CampaignServiceClient<KeyedChannel>,
    roster: &str,
) -> cpb::Campaign {
    let now = Utc::now();
    let ts = |at: chrono::DateTime<Utc>| prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    };
    campaigns
        .create_campaign(cpb::CreateCampaignRequest {
            campaign: Some(cpb::Campaign {
                display_name: "Reach".to_owned(),
                goal: CampaignGoal::Awareness as i32,
                budget: Some(usd(1_000)),
                window: Some(TimeWindow {
                    start_time: Some(ts(now)),
                    end_time: Some(ts(now + TimeDelta::days(30))),
                }),
                roster: roster.to_owned(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .expect("campaign created")
        .into_inner()
        .campaign
        .expect("campaign")
}

fn explicit(candidates: Vec<PlanCandidate>) -> Option<Candidates> {
    Some(Candidates::Explicit(cpb::CandidateList { candidates }))
}

#[tokio::test]
async fn explicit_candidates_are_planned_saved_and_checked() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await.expect("app starts");
        let mut campaigns =
            CampaignServiceClient::new(app.channel(app.roster).await.expect("connect"));
        let campaign = create_campaign(&mut campaigns, "").await;

        // a and b reach the same 100 people; c reaches 80 others; the celebrity reaches 150 of
        // a's for $900. Best for $1,000: a and c, 180 people for $800.
        let pool = vec![
            candidate("a", 400, 0..100, Tier::Micro),
            candidate("b", 400, 0..100, Tier::Micro),
            candidate("c", 400, 1_000..1_080, Tier::Micro),
            candidate("star", 900, 0..150, Tier::Mega),
        ];
        let plan = campaigns
            .plan_campaign(cpb::PlanCampaignRequest {
                campaign: campaign.name.clone(),
                candidates: explicit(pool.clone()),
                save: true,
                ..Default::default()
            })
            .await
            .expect("plans")
            .into_inner();
        let chosen = plan.plan.as_ref().expect("a plan");
        let ids: Vec<&str> = chosen
            .selections
            .iter()
            .map(|s| s.candidate_id.as_str())
            .collect();
        assert_eq!(ids, ["a", "c"]);
        assert_eq!(chosen.selections[1].marginal_reach, 80.0);
        assert_eq!(chosen.selections[0].deliverable, "post");
        assert_eq!(chosen.goal_value, 180.0);
        assert_eq!(chosen.cost, Some(usd(800)));
        assert_eq!(plan.algorithm, "exact");
        assert_eq!((plan.upper_bound, plan.gap), (180.0, 0.0));
        assert_eq!(plan.goal, CampaignGoal::Awareness as i32);
        assert!(!plan.estimated);
        let celebrity = plan.best_single_celebrity.as_ref().expect("a celebrity");
        assert_eq!(celebrity.goal_value, 150.0);
        // By followers the celebrity comes first, and nothing else fits in the $100 left.
        let by_followers = plan.top_by_followers.as_ref().expect("baseline");
        assert_eq!(by_followers.selections.len(), 1);
        assert_eq!(by_followers.goal_value, 150.0);

        // Saved, and the draft moved to planned.
        let saved = campaigns
            .get_campaign_plan(cpb::GetCampaignPlanRequest {
                campaign: campaign.name.clone(),
            })
            .await
            .expect("saved plan")
            .into_inner();
        assert_eq!(saved.plan.as_ref(), Some(&plan));
        assert!(saved.save_time.is_some());
        let stored = campaigns
            .get_campaign(cpb::GetCampaignRequest {
                name: campaign.name.clone(),
            })
            .await
            .expect("campaign")
            .into_inner()
            .campaign
            .expect("campaign");
        assert_eq!(stored.status, CampaignStatus::Planned as i32);

        // No celebrities: b cannot help either, so a and c stand.
        let no_stars = campaigns
            .plan_campaign(cpb::PlanCampaignRequest {
                campaign: campaign.name.clone(),
                candidates: explicit(pool.clone()),
                constraints: Some(cpb::PlanConstraints {
                    max_celebrities: Some(0),
                    required: vec!["b".to_owned()],
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .expect("plans")
            .into_inner();
        let ids: Vec<&str> = no_stars
            .plan
            .as_ref()
            .expect("plan")
            .selections
            .iter()
            .map(|s| s.candidate_id.as_str())
            .collect();
        assert_eq!(ids, ["b", "c"]);

        // A budget that affords nobody: an empty plan with the reason.
        let broke = campaigns
            .plan_campaign(cpb::PlanCampaignRequest {
                campaign: campaign.name.clone(),
                candidates: explicit(pool.clone()),
                budget: Some(usd(1)),
                ..Default::default()
            })
            .await
            .expect("plans")
            .into_inner();
        assert!(broke.plan.expect("plan").selections.is_empty());
        assert_eq!(broke.note, "the budget affords no eligible candidate");

        // Bad input is named by field.
        let refused = |candidates: Vec<PlanCandidate>,
                       constraints: Option<cpb::PlanConstraints>| {
            let mut campaigns = campaigns.clone();
            let name = campaign.name.clone();
            async move {
                let status = campaigns
                    .plan_campaign(cpb::PlanCampaignRequest {
                        campaign: name,
                        candidates: explicit(candidates),
                        constraints,
                        ..Default::default()
                    })
                    .await
                    .expect_err("refused");
                assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
                status.message().to_owned()
            }
        };
        let mut duplicate = pool.clone();
        duplicate[1].id = "a".to_owned();
        assert!(
            refused(duplicate, None)
                .await
                .starts_with("explicit.candidates[1].id: duplicate")
        );
        let mut negative = pool.clone();
        negative[0].cost = Some(usd(-5));
        assert!(
            refused(negative, None)
                .await
                .starts_with("explicit.candidates[0].cost")
        );
        let mut euros = pool.clone();
        euros[2].cost.as_mut().expect("cost").currency_code = "EUR".to_owned();
        assert!(
            refused(euros, None)
                .await
                .starts_with("explicit.candidates[2].cost.currency_code")
        );
        let contradictory = cpb::PlanConstraints {
            min_creators: 3,
            max_creators: 2,
            ..Default::default()
        };
        assert!(
            refused(pool.clone(), Some(contradictory))
                .await
                .starts_with("constraints.max_creators")
        );
        let both = cpb::PlanConstraints {
            required: vec!["a".to_owned()],
            excluded: vec!["a".to_owned()],
            ..Default::default()
        };
        assert!(
            refused(pool.clone(), Some(both))
                .await
                .contains("both required and excluded")
        );

        // A deadline too short for 3,000 overlapping candidates: answered at once, and the
        // service goes on serving.
        let many: Vec<PlanCandidate> = (0..3_000_u64)
            .map(|i| candidate(&format!("m{i}"), 10, (i * 7)..(i * 7 + 60), Tier::Micro))
            .collect();
        let mut request = resonance_proto::tonic::Request::new(cpb::PlanCampaignRequest {
            campaign: campaign.name.clone(),
            candidates: explicit(many),
            ..Default::default()
        });
        request.set_timeout(Duration::from_millis(5));
        let started = std::time::Instant::now();
        let status = campaigns
            .plan_campaign(request)
            .await
            .expect_err("past its deadline");
        // tonic answers a passed deadline with CANCELLED at the server's timeout layer, or the
        // planner stops with DEADLINE_EXCEEDED; either way, promptly.
        assert!(
            matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled),
            "{status:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        campaigns
            .get_campaign_plan(cpb::GetCampaignPlanRequest {
                campaign: campaign.name.clone(),
            })
            .await
            .expect("still serving");

        // Another brand's campaign does not exist for this one.
        let (_, rival_key) = app
            .store
            .brands()
            .create("Rival", Utc::now())
            .await
            .expect("second brand");
        let mut rival = CampaignServiceClient::new(
            app.channel_with_key(app.roster, &rival_key.secret)
                .await
                .expect("connect"),
        );
        let status = rival
            .plan_campaign(cpb::PlanCampaignRequest {
                campaign: campaign.name.clone(),
                candidates: explicit(pool),
                ..Default::default()
            })
            .await
            .expect_err("not theirs");
        assert_eq!(status.code(), Code::NotFound);
        let status = rival
            .get_campaign_plan(cpb::GetCampaignPlanRequest {
                campaign: campaign.name.clone(),
            })
            .await
            .expect_err("not theirs");
        assert_eq!(status.code(), Code::NotFound);
        app.stop().await.expect("stops");
    }
}

fn audience(handle: &str, members: std::ops::Range<u64>) -> Record {
    Record {
        kind: Some(RecordKind::Audience(AudienceRecord {
            account: Some(CreatorRef {
                platform: Platform::Instagram as i32,
                handle: handle.to_owned(),
            }),
            member_ids: members.map(|m| m.to_string()).collect(),
        })),
    }
}

#[tokio::test]
async fn a_roster_of_stored_creators_is_planned_with_estimated_overlap() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, |settings| {
            settings.scoring.rescore.idle_interval = Duration::from_millis(20);
        })
        .await
        .expect("app starts");
        let mut ingest = IngestServiceClient::new(app.channel(app.ingest).await.expect("connect"));
        // Twins share one audience of 20,000; solo reaches 15,000 others.
        let records = vec![
            profile("twin.one", 40_000),
            profile("twin.two", 40_000),
            profile("solo", 40_000),
            audience("twin.one", 0..20_000),
            audience("twin.two", 0..20_000),
            audience("solo", 50_000..65_000),
        ];
        let outcomes = ingest
            .ingest_records(futures::stream::iter([IngestRecordsRequest {
                request_id: String::new(),
                source: "planner-test".to_owned(),
                records,
            }]))
            .await
            .expect("ingested")
            .into_inner();
        assert!(outcomes.errors.is_empty(), "{outcomes:?}");
        // Scored in the background.
        for _ in 0..600 {
            let scored = app
                .store
                .scores()
                .search(&resonance_store::SearchQuery {
                    limit: 10,
                    ..Default::default()
                })
                .await
                .expect("search");
            if scored.len() == 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        let roster_channel = app.channel(app.roster).await.expect("connect");
        let mut rosters = RosterServiceClient::new(roster_channel.clone());
        let roster = rosters
            .create_roster(rpb::CreateRosterRequest {
                roster: Some(rpb::Roster {
                    display_name: "Shortlist".to_owned(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .expect("roster")
            .into_inner()
            .roster
            .expect("roster");
        for handle in ["twin.one", "twin.two", "solo", "not.yet.known"] {
            rosters
                .create_roster_entry(rpb::CreateRosterEntryRequest {
                    parent: roster.name.clone(),
                    entry: Some(rpb::RosterEntry {
                        creator: Some(CreatorRef {
                            platform: Platform::Instagram as i32,
                            handle: handle.to_owned(),
                        }),
                        rates: vec![rpb::Rate {
                            deliverable: "post".to_owned(),
                            price: Some(usd(400)),
                        }],
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .await
                .expect("entry");
        }
        let mut campaigns = CampaignServiceClient::new(roster_channel);
        let campaign = create_campaign(&mut campaigns, &roster.name).await;
        // Two creators fit in $1,000 at the negotiated $400: one twin and solo.
        let plan = campaigns
            .plan_campaign(cpb::PlanCampaignRequest {
                campaign: campaign.name.clone(),
                ..Default::default()
            })
            .await
            .expect("plans")
            .into_inner();
        assert!(plan.estimated);
        assert_eq!(plan.candidates_considered, 3);
        assert_eq!(plan.candidates_skipped, 1);
        assert!(plan.note.contains("does not know yet"), "{}", plan.note);
        let chosen = plan.plan.expect("plan");
        let handles: Vec<String> = chosen
            .selections
            .iter()
            .map(|s| s.creator.as_ref().expect("creator").handle.clone())
            .collect();
        assert_eq!(handles.len(), 2, "{handles:?}");
        assert!(handles.contains(&"solo".to_owned()), "{handles:?}");
        assert_eq!(chosen.cost, Some(usd(800)));
        // 35,000 people, within the sketches' error.
        assert!(
            (chosen.goal_value - 35_000.0).abs() < 35_000.0 * 0.05,
            "{}",
            chosen.goal_value
        );
        assert!(plan.upper_bound >= chosen.goal_value);
        app.stop().await.expect("stops");
    }
}
