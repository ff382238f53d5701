#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! A whole campaign over gRPC: shortlist creators, plan a takeover, a seeding and a sponsored
//! video, move them through their workflows, ingest tracked posts and conversions, and read a
//! report whose figures are worked out by hand below. A second brand sees none of it.

use chrono::{DateTime, TimeDelta, Utc};
use resonance_proto::campaign::campaign_service_client::CampaignServiceClient;
use resonance_proto::campaign::{
    self as cpb, CampaignGoal, CampaignStatus, PaymentStatus, ReviewStatus, ShipmentStatus,
    deliverable::Kind,
};
use resonance_proto::common::{ContentFormat, CreatorRef, Money, Platform, TimeWindow};
use resonance_proto::ingest::ingest_service_client::IngestServiceClient;
use resonance_proto::ingest::{
    ConversionRecord, IngestRecordsRequest, PostRecord, Record, RecordOutcome,
    record::Kind as RecordKind,
};
use resonance_proto::prost_types::{self, FieldMask};
use resonance_proto::roster::roster_service_client::RosterServiceClient;
use resonance_proto::roster::{self as rpb, PipelineStatus};
use resonance_proto::scoring::Post;
use resonance_proto::tonic::Code;
use resonance_tests::{KeyedChannel, TestApp, backends, profile_record as profile};

fn ts(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

fn creator(handle: &str) -> CreatorRef {
    CreatorRef {
        platform: Platform::Instagram as i32,
        handle: handle.to_owned(),
    }
}

fn usd(units: i64, nanos: i32) -> Money {
    Money {
        currency_code: "USD".to_owned(),
        units,
        nanos,
    }
}

fn amount(money: Option<&Money>) -> f64 {
    let money = money.expect("money");
    money.units as f64 + f64::from(money.nanos) / 1e9
}

fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-6,
        "got {actual}, expected {expected}"
    );
}

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}

struct PostSpec<'a> {
    handle: &'a str,
    id: &'a str,
    at: DateTime<Utc>,
    likes: i64,
    comments: i64,
    views: Option<i64>,
    caption: &'a str,
    format: ContentFormat,
    paid: bool,
}

fn post(spec: PostSpec<'_>) -> Record {
    Record {
        kind: Some(RecordKind::Post(PostRecord {
            account: Some(creator(spec.handle)),
            post: Some(Post {
                external_id: spec.id.to_owned(),
                posted_time: Some(ts(spec.at)),
                format: spec.format as i32,
                likes: Some(spec.likes),
                comments: Some(spec.comments),
                views: spec.views,
                caption: spec.caption.to_owned(),
                paid_partnership: spec.paid,
                url: format!("https://instagram.com/p/{}", spec.id),
                ..Default::default()
            }),
            observed_time: None,
        })),
    }
}

fn conversion(order: &str, code: &str, at: DateTime<Utc>, revenue: Money) -> Record {
    Record {
        kind: Some(RecordKind::Conversion(ConversionRecord {
            order_id: order.to_owned(),
            promo_code: code.to_owned(),
            tracking_url: String::new(),
            occurred_time: Some(ts(at)),
            revenue: Some(revenue),
        })),
    }
}

async fn ingest(channel: KeyedChannel, request_id: &str, records: Vec<Record>) -> Vec<i32> {
    let mut client = IngestServiceClient::new(channel);
    let response = client
        .ingest_records(futures::stream::iter([IngestRecordsRequest {
            request_id: request_id.to_owned(),
            source: "campaign-test".to_owned(),
            records,
        }]))
        .await
        .expect("ingest")
        .into_inner();
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    response.outcomes
}

fn sponsored(review: ReviewStatus, url: &str) -> Option<Kind> {
    Some(Kind::SponsoredContent(cpb::SponsoredContent {
        review_status: review as i32,
        content_url: url.to_owned(),
        ..Default::default()
    }))
}

fn seeding_status(status: ShipmentStatus) -> Option<Kind> {
    Some(Kind::ProductSeeding(cpb::ProductSeeding {
        shipment_status: status as i32,
        ..Default::default()
    }))
}

#[tokio::test]
async fn a_campaign_runs_end_to_end_and_stays_with_its_brand() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await.expect("app starts");
        let now = Utc::now();
        // The campaign began 20 days ago and ends in 10; posts are in the past.
        let start = now - TimeDelta::days(20);
        let end = now + TimeDelta::days(10);
        let (rival, rival_key) = app
            .store
            .brands()
            .create("Rival", now)
            .await
            .expect("second brand");
        let mine = app.channel(app.roster).await.expect("connect");
        let theirs = app
            .channel_with_key(app.roster, &rival_key.secret)
            .await
            .expect("connect");
        let mut rosters = RosterServiceClient::new(mine.clone());
        let mut campaigns = CampaignServiceClient::new(mine.clone());

        // Creators the platform knows: three creators and the brand's own account.
        let outcomes = ingest(
            app.channel(app.ingest).await.expect("connect"),
            "profiles",
            vec![
                profile("ana.eats", 20_000),
                profile("ben.moves", 30_000),
                profile("cara.cooks", 50_000),
                profile("acme", 100_000),
            ],
        )
        .await;
        assert!(outcomes.iter().all(|o| *o == RecordOutcome::Created as i32));

        // API keys over the API: a retried create returns the same key without its secret.
        let first = rosters
            .create_api_key(rpb::CreateApiKeyRequest {
                display_name: "ci".to_owned(),
                request_id: "key-1".to_owned(),
            })
            .await
            .expect("key")
            .into_inner();
        assert!(first.secret.starts_with("rsn_"));
        let retried = rosters
            .create_api_key(rpb::CreateApiKeyRequest {
                display_name: "ci".to_owned(),
                request_id: "key-1".to_owned(),
            })
            .await
            .expect("key")
            .into_inner();
        assert_eq!(retried.api_key, first.api_key);
        assert!(retried.secret.is_empty(), "the secret is shown once");
        let keys = rosters
            .list_api_keys(rpb::ListApiKeysRequest::default())
            .await
            .expect("keys")
            .into_inner();
        assert_eq!(keys.api_keys.len(), 2);

        // A roster, created once for one request id.
        let create_roster = || rpb::CreateRosterRequest {
            roster: Some(rpb::Roster {
                display_name: "Spring shortlist".to_owned(),
                description: "food and fitness".to_owned(),
                ..Default::default()
            }),
            request_id: "roster-1".to_owned(),
        };
        let roster = rosters
            .create_roster(create_roster())
            .await
            .expect("roster")
            .into_inner()
            .roster
            .expect("roster");
        let again = rosters
            .create_roster(create_roster())
            .await
            .expect("roster")
            .into_inner()
            .roster
            .expect("roster");
        assert_eq!(again.name, roster.name);
        let bad = rosters
            .create_roster(rpb::CreateRosterRequest {
                roster: Some(rpb::Roster::default()),
                ..Default::default()
            })
            .await
            .expect_err("no name");
        assert_eq!(bad.code(), Code::InvalidArgument);
        assert!(
            bad.message().starts_with("roster.display_name"),
            "{}",
            bad.message()
        );

        // Entries: known creators resolve, an unknown one is kept by handle.
        let mut entries = Vec::new();
        for handle in ["ana.eats", "ben.moves", "@New.Face"] {
            let entry = rosters
                .create_roster_entry(rpb::CreateRosterEntryRequest {
                    parent: roster.name.clone(),
                    entry: Some(rpb::RosterEntry {
                        creator: Some(creator(handle)),
                        notes: "met at the expo".to_owned(),
                        rates: vec![rpb::Rate {
                            deliverable: "video".to_owned(),
                            price: Some(usd(900, 0)),
                        }],
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .expect("entry")
                .into_inner()
                .entry
                .expect("entry");
            entries.push(entry);
        }
        assert!(entries[0].creator_name.starts_with("creators/"));
        assert_eq!(entries[2].creator_name, "", "not known to the platform yet");
        assert_eq!(
            entries[2].creator.as_ref().map(|c| c.handle.as_str()),
            Some("new.face")
        );
        assert_eq!(entries[0].status, PipelineStatus::Prospect as i32);
        let duplicate = rosters
            .create_roster_entry(rpb::CreateRosterEntryRequest {
                parent: roster.name.clone(),
                entry: Some(rpb::RosterEntry {
                    creator: Some(creator("ANA.EATS")),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .expect_err("duplicate");
        assert_eq!(duplicate.code(), Code::AlreadyExists);

        // Updates with an etag; a stale etag is ABORTED and changes nothing.
        let contracted = rosters
            .update_roster_entry(rpb::UpdateRosterEntryRequest {
                entry: Some(rpb::RosterEntry {
                    name: entries[1].name.clone(),
                    status: PipelineStatus::Contracted as i32,
                    etag: entries[1].etag.clone(),
                    ..Default::default()
                }),
                update_mask: mask(&["status"]),
            })
            .await
            .expect("update")
            .into_inner()
            .entry
            .expect("entry");
        assert_eq!(contracted.status, PipelineStatus::Contracted as i32);
        assert_eq!(
            contracted.notes, "met at the expo",
            "fields outside the mask stay"
        );
        assert_ne!(contracted.etag, entries[1].etag);
        let stale = rosters
            .update_roster_entry(rpb::UpdateRosterEntryRequest {
                entry: Some(rpb::RosterEntry {
                    name: entries[1].name.clone(),
                    status: PipelineStatus::Declined as i32,
                    etag: entries[1].etag.clone(),
                    ..Default::default()
                }),
                update_mask: mask(&["status"]),
            })
            .await
            .expect_err("stale");
        assert_eq!(stale.code(), Code::Aborted);
        let output_only = rosters
            .update_roster_entry(rpb::UpdateRosterEntryRequest {
                entry: Some(entries[0].clone()),
                update_mask: mask(&["creator_name"]),
            })
            .await
            .expect_err("output only");
        assert_eq!(output_only.code(), Code::InvalidArgument);
        assert!(output_only.message().starts_with("update_mask.paths[0]"));

        // Lists: filtered by status, and paged.
        let listed = rosters
            .list_roster_entries(rpb::ListRosterEntriesRequest {
                parent: roster.name.clone(),
                statuses: vec![PipelineStatus::Contracted as i32],
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner();
        assert_eq!(listed.entries.len(), 1);
        let mut names = Vec::new();
        let mut token = String::new();
        loop {
            let page = rosters
                .list_roster_entries(rpb::ListRosterEntriesRequest {
                    parent: roster.name.clone(),
                    page_size: 2,
                    page_token: token.clone(),
                    ..Default::default()
                })
                .await
                .expect("page")
                .into_inner();
            names.extend(page.entries.into_iter().map(|e| e.name));
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        assert_eq!(
            names,
            entries.iter().map(|e| e.name.clone()).collect::<Vec<_>>()
        );
        let exact = rosters
            .list_roster_entries(rpb::ListRosterEntriesRequest {
                parent: roster.name.clone(),
                page_size: 3,
                ..Default::default()
            })
            .await
            .expect("page")
            .into_inner();
        assert_eq!(exact.entries.len(), 3);
        assert!(
            exact.next_page_token.is_empty(),
            "a full last page has no next page"
        );

        // A campaign: 50 concurrent creates with one request id make one.
        let create_campaign = cpb::CreateCampaignRequest {
            campaign: Some(cpb::Campaign {
                display_name: "Spring glow".to_owned(),
                goal: CampaignGoal::Engagement as i32,
                budget: Some(usd(5_000, 0)),
                window: Some(TimeWindow {
                    start_time: Some(ts(start)),
                    end_time: Some(ts(end)),
                }),
                niches: vec!["food".to_owned()],
                platforms: vec![Platform::Instagram as i32],
                hashtags: vec!["#AcmeGlow".to_owned()],
                promo_codes: vec!["GLOW10".to_owned()],
                roster: roster.name.clone(),
                ..Default::default()
            }),
            request_id: "campaign-1".to_owned(),
        };
        let creates = (0..50).map(|_| {
            let mut client = campaigns.clone();
            let request = create_campaign.clone();
            tokio::spawn(async move { client.create_campaign(request).await })
        });
        let mut created = Vec::new();
        for task in creates.collect::<Vec<_>>() {
            let campaign = task.await.expect("task").expect("create").into_inner();
            created.push(campaign.campaign.expect("campaign").name);
        }
        assert!(
            created.iter().all(|name| *name == created[0]),
            "{created:?}"
        );
        let listed = campaigns
            .list_campaigns(cpb::ListCampaignsRequest::default())
            .await
            .expect("list")
            .into_inner();
        assert_eq!(listed.campaigns.len(), 1);
        let campaign = listed.campaigns[0].clone();
        assert_eq!(campaign.status, CampaignStatus::Draft as i32);
        assert_eq!(campaign.hashtags, ["acmeglow"]);
        let unknown_niche = campaigns
            .create_campaign(cpb::CreateCampaignRequest {
                campaign: Some(cpb::Campaign {
                    niches: vec!["underwater-basket-weaving".to_owned()],
                    ..create_campaign.campaign.clone().expect("campaign")
                }),
                request_id: String::new(),
            })
            .await
            .expect_err("unknown niche");
        assert!(unknown_niche.message().starts_with("campaign.niches[0]"));

        // Deliverables: a takeover of the brand's account, two seedings, a sponsored video.
        let deliverable = |creator_handle: &str, kind: Kind, fee: Money, code: &str| {
            cpb::CreateDeliverableRequest {
                parent: campaign.name.clone(),
                deliverable: Some(cpb::Deliverable {
                    creator: Some(creator(creator_handle)),
                    kind: Some(kind),
                    fee: Some(fee),
                    promo_code: code.to_owned(),
                    ..Default::default()
                }),
                request_id: String::new(),
            }
        };
        let takeover_start = start + TimeDelta::days(1);
        let mut made = Vec::new();
        for request in [
            deliverable(
                "cara.cooks",
                Kind::Takeover(cpb::Takeover {
                    account: Some(creator("acme")),
                    window: Some(TimeWindow {
                        start_time: Some(ts(takeover_start)),
                        end_time: Some(ts(takeover_start + TimeDelta::days(1))),
                    }),
                }),
                usd(300, 0),
                "",
            ),
            deliverable(
                "ana.eats",
                Kind::ProductSeeding(cpb::ProductSeeding {
                    product: "Glow serum".to_owned(),
                    quantity: 2,
                    ..Default::default()
                }),
                usd(50, 0),
                "",
            ),
            deliverable(
                "new.face",
                Kind::ProductSeeding(cpb::ProductSeeding {
                    product: "Glow serum".to_owned(),
                    quantity: 1,
                    ..Default::default()
                }),
                usd(0, 0),
                "",
            ),
            deliverable(
                "ben.moves",
                Kind::SponsoredContent(cpb::SponsoredContent {
                    format: ContentFormat::Video as i32,
                    due_time: Some(ts(start + TimeDelta::days(12))),
                    ..Default::default()
                }),
                usd(1_000, 0),
                "BEN15",
            ),
        ] {
            made.push(
                campaigns
                    .create_deliverable(request)
                    .await
                    .expect("deliverable")
                    .into_inner()
                    .deliverable
                    .expect("deliverable"),
            );
        }
        let (takeover, ana_seeding, new_seeding, video) = (&made[0], &made[1], &made[2], &made[3]);
        let euros = campaigns
            .create_deliverable(deliverable(
                "ana.eats",
                Kind::ProductSeeding(cpb::ProductSeeding {
                    product: "x".to_owned(),
                    quantity: 1,
                    ..Default::default()
                }),
                Money {
                    currency_code: "EUR".to_owned(),
                    units: 5,
                    nanos: 0,
                },
                "",
            ))
            .await
            .expect_err("other currency");
        assert_eq!(
            euros.message().split(':').next(),
            Some("deliverable.fee.currency_code")
        );

        // The lifecycle: no skipping from draft to active.
        let transition = |status: CampaignStatus| cpb::TransitionCampaignRequest {
            name: campaign.name.clone(),
            status: status as i32,
            etag: String::new(),
        };
        let skipped = campaigns
            .transition_campaign(transition(CampaignStatus::Active))
            .await
            .expect_err("draft to active");
        assert_eq!(skipped.code(), Code::FailedPrecondition);
        let mut last: Option<(CampaignStatus, String)> = None;
        for status in [
            CampaignStatus::Planned,
            CampaignStatus::Active,
            CampaignStatus::Active,
        ] {
            let moved = campaigns
                .transition_campaign(transition(status))
                .await
                .expect("transition")
                .into_inner()
                .campaign
                .expect("campaign");
            assert_eq!(moved.status, status as i32);
            if let Some((previous, etag)) = &last
                && *previous == status
            {
                assert_eq!(&moved.etag, etag, "a repeated transition writes nothing");
            }
            last = Some((status, moved.etag));
        }

        // Workflows.
        let update =
            |name: &str, kind: Option<Kind>, paths: &[&str]| cpb::UpdateDeliverableRequest {
                deliverable: Some(cpb::Deliverable {
                    name: name.to_owned(),
                    kind,
                    payment_status: PaymentStatus::Unspecified as i32,
                    ..Default::default()
                }),
                update_mask: mask(paths),
            };
        for status in [ShipmentStatus::Shipped, ShipmentStatus::Delivered] {
            campaigns
                .update_deliverable(update(
                    &ana_seeding.name,
                    seeding_status(status),
                    &["product_seeding.shipment_status"],
                ))
                .await
                .expect("shipment");
        }
        campaigns
            .update_deliverable(update(
                &new_seeding.name,
                seeding_status(ShipmentStatus::Shipped),
                &["product_seeding.shipment_status"],
            ))
            .await
            .expect("shipment");
        let backwards = campaigns
            .update_deliverable(update(
                &ana_seeding.name,
                seeding_status(ShipmentStatus::Pending),
                &["product_seeding.shipment_status"],
            ))
            .await
            .expect_err("backwards");
        assert_eq!(backwards.code(), Code::FailedPrecondition);
        let shortcut = campaigns
            .update_deliverable(update(
                &video.name,
                sponsored(ReviewStatus::Published, "https://instagram.com/p/b1"),
                &[
                    "sponsored_content.review_status",
                    "sponsored_content.content_url",
                ],
            ))
            .await
            .expect_err("draft to published");
        assert_eq!(shortcut.code(), Code::FailedPrecondition);
        for review in [
            ReviewStatus::Submitted,
            ReviewStatus::ChangesRequested,
            ReviewStatus::Submitted,
            ReviewStatus::Approved,
        ] {
            campaigns
                .update_deliverable(update(
                    &video.name,
                    sponsored(review, ""),
                    &["sponsored_content.review_status"],
                ))
                .await
                .expect("review");
        }
        let no_url = campaigns
            .update_deliverable(update(
                &video.name,
                sponsored(ReviewStatus::Published, ""),
                &["sponsored_content.review_status"],
            ))
            .await
            .expect_err("published needs its URL");
        assert_eq!(no_url.code(), Code::InvalidArgument);
        assert!(
            no_url
                .message()
                .starts_with("deliverable.sponsored_content.content_url")
        );
        let published = campaigns
            .update_deliverable(update(
                &video.name,
                sponsored(ReviewStatus::Published, "https://instagram.com/p/b1"),
                &[
                    "sponsored_content.review_status",
                    "sponsored_content.content_url",
                ],
            ))
            .await
            .expect("publish")
            .into_inner()
            .deliverable
            .expect("deliverable");
        assert!(matches!(
            published.kind,
            Some(Kind::SponsoredContent(ref c)) if c.review_status == ReviewStatus::Published as i32
        ));
        let wrong_kind = campaigns
            .update_deliverable(update(
                &takeover.name,
                seeding_status(ShipmentStatus::Shipped),
                &["product_seeding.shipment_status"],
            ))
            .await
            .expect_err("a takeover has no shipment");
        assert_eq!(wrong_kind.code(), Code::InvalidArgument);

        // Tracked posts and conversions arrive through ingestion.
        let ingest_channel = app.channel(app.ingest).await.expect("connect");
        let tracked = vec![
            // The takeover: the brand's account inside the takeover window, no hashtag needed.
            post(PostSpec {
                handle: "acme",
                id: "t1",
                at: takeover_start + TimeDelta::hours(2),
                likes: 500,
                comments: 50,
                views: None,
                caption: "Cara here, cooking on the Acme account today",
                format: ContentFormat::Post,
                paid: false,
            }),
            // The brand's own post after the takeover: not the campaign's.
            post(PostSpec {
                handle: "acme",
                id: "t2",
                at: start + TimeDelta::days(5),
                likes: 9_000,
                comments: 900,
                views: None,
                caption: "our regular programming",
                format: ContentFormat::Post,
                paid: false,
            }),
            // Ana posts about the seeded serum with the branded hashtag.
            post(PostSpec {
                handle: "ana.eats",
                id: "a1",
                at: start + TimeDelta::days(3),
                likes: 800,
                comments: 40,
                views: None,
                caption: "this serum! #AcmeGlow",
                format: ContentFormat::Post,
                paid: false,
            }),
            // ... and about something else.
            post(PostSpec {
                handle: "ana.eats",
                id: "a2",
                at: start + TimeDelta::days(4),
                likes: 5_000,
                comments: 100,
                views: None,
                caption: "pasta night",
                format: ContentFormat::Post,
                paid: false,
            }),
            // Ben's sponsored video, disclosed.
            post(PostSpec {
                handle: "ben.moves",
                id: "b1",
                at: start + TimeDelta::days(11),
                likes: 1_500,
                comments: 100,
                views: Some(20_000),
                caption: "morning routine #acmeglow",
                format: ContentFormat::Video,
                paid: true,
            }),
            // A branded post before the campaign began.
            post(PostSpec {
                handle: "ben.moves",
                id: "b0",
                at: start - TimeDelta::days(2),
                likes: 7_000,
                comments: 0,
                views: None,
                caption: "teaser #acmeglow",
                format: ContentFormat::Post,
                paid: false,
            }),
            conversion(
                "o-1",
                "ben15",
                start + TimeDelta::days(12),
                usd(120, 500_000_000),
            ),
            conversion("o-2", "GLOW10", start + TimeDelta::days(13), usd(80, 0)),
            conversion("o-3", "UNRELATED", start + TimeDelta::days(13), usd(999, 0)),
        ];
        ingest(ingest_channel.clone(), "tracked", tracked).await;
        // The rival brand's order with the same code is the rival's alone.
        let rival_ingest = app
            .channel_with_key(app.ingest, &rival_key.secret)
            .await
            .expect("connect");
        ingest(
            rival_ingest,
            "rival-orders",
            vec![conversion(
                "o-1",
                "BEN15",
                start + TimeDelta::days(12),
                usd(5_000, 0),
            )],
        )
        .await;

        // Ingestion jobs and their dead letters are per brand too.
        let mut their_ingest = IngestServiceClient::new(
            app.channel_with_key(app.ingest, &rival_key.secret)
                .await
                .expect("connect"),
        );
        let their_jobs = their_ingest
            .list_ingest_jobs(resonance_proto::ingest::ListIngestJobsRequest::default())
            .await
            .expect("jobs")
            .into_inner()
            .jobs;
        assert_eq!(their_jobs.len(), 1, "only the rival's own push");
        let mut my_ingest = IngestServiceClient::new(ingest_channel.clone());
        let my_jobs = my_ingest
            .list_ingest_jobs(resonance_proto::ingest::ListIngestJobsRequest::default())
            .await
            .expect("jobs")
            .into_inner()
            .jobs;
        assert_eq!(my_jobs.len(), 2);
        let foreign_job = my_ingest
            .get_ingest_job(resonance_proto::ingest::GetIngestJobRequest {
                name: their_jobs[0].name.clone(),
            })
            .await
            .expect_err("another brand's job");
        assert_eq!(foreign_job.code(), Code::NotFound);

        let seeded = campaigns
            .get_deliverable(cpb::GetDeliverableRequest {
                name: ana_seeding.name.clone(),
            })
            .await
            .expect("get")
            .into_inner()
            .deliverable
            .expect("deliverable");
        assert!(matches!(seeded.kind, Some(Kind::ProductSeeding(ref s)) if s.posted));

        // Paying is allowed in any order forwards, never backwards.
        for status in [PaymentStatus::Invoiced, PaymentStatus::Paid] {
            campaigns
                .update_deliverable(cpb::UpdateDeliverableRequest {
                    deliverable: Some(cpb::Deliverable {
                        name: video.name.clone(),
                        payment_status: status as i32,
                        ..Default::default()
                    }),
                    update_mask: mask(&["payment_status"]),
                })
                .await
                .expect("payment");
        }

        // The report, checked by hand.
        let report = campaigns
            .get_campaign_report(cpb::GetCampaignReportRequest {
                campaign: campaign.name.clone(),
            })
            .await
            .expect("report")
            .into_inner();
        assert_eq!(report.deliverables.len(), 4);
        let line = |name: &str| {
            report
                .deliverables
                .iter()
                .find(|d| d.deliverable == name)
                .expect("line")
                .clone()
        };
        // Instagram reach = followers x 0.48 x sqrt(rate / 0.10), clamped to [0.05, 0.90].
        let reach = |followers: f64, engagements: f64| {
            let fraction = (0.48 * ((engagements / followers) / 0.10).sqrt()).clamp(0.05, 0.90);
            followers * fraction
        };

        // Takeover: t1 only; 550 engagements; 100,000 followers.
        let takeover_line = line(&takeover.name);
        assert!(takeover_line.fulfilled);
        assert_eq!((takeover_line.posts, takeover_line.engagements), (1, 550));
        close(takeover_line.estimated_reach, reach(100_000.0, 550.0));
        close(amount(takeover_line.cost.as_ref()), 300.0);
        close(
            amount(takeover_line.cost_per_engagement.as_ref()),
            300.0 / 550.0,
        );
        close(
            amount(takeover_line.cpm.as_ref()),
            300.0 / reach(100_000.0, 550.0) * 1_000.0,
        );
        // Static post EMV: engagements x 8.7 x CPM 10 / 1000.
        close(
            amount(takeover_line.earned_media_value.as_ref()),
            550.0 * 0.087,
        );
        assert_eq!(takeover_line.undisclosed_posts, 1);

        // Ana's seeding: a1 only.
        let ana_line = line(&ana_seeding.name);
        assert!(ana_line.fulfilled);
        assert_eq!((ana_line.posts, ana_line.engagements), (1, 840));
        close(ana_line.estimated_reach, reach(20_000.0, 840.0));
        close(amount(ana_line.cost_per_engagement.as_ref()), 50.0 / 840.0);

        // The unknown creator's seeding: shipped, nothing posted.
        let new_line = line(&new_seeding.name);
        assert!(!new_line.fulfilled);
        assert_eq!(new_line.posts, 0);
        assert!(new_line.cost_per_engagement.is_none());

        // Ben's video: views are its reach; video EMV = views x 10 / 1000; one conversion.
        let video_line = line(&video.name);
        assert!(video_line.fulfilled);
        assert_eq!((video_line.posts, video_line.engagements), (1, 1_600));
        close(video_line.estimated_reach, 20_000.0);
        close(
            amount(video_line.cpm.as_ref()),
            1_000.0 / 20_000.0 * 1_000.0,
        );
        close(amount(video_line.earned_media_value.as_ref()), 200.0);
        assert_eq!(video_line.conversions, 1);
        close(amount(video_line.revenue.as_ref()), 120.5);
        close(video_line.return_on_spend.expect("spent"), 120.5 / 1_000.0);
        assert_eq!(video_line.undisclosed_posts, 0);

        // The campaign: three posts; o-1 and o-2 (campaign code), not o-3 or the rival's o-1.
        let total = report.total.expect("total");
        assert!(!total.fulfilled, "one seeding never posted");
        assert_eq!((total.posts, total.engagements), (3, 2_990));
        close(amount(total.cost.as_ref()), 1_350.0);
        close(
            amount(total.cost_per_engagement.as_ref()),
            1_350.0 / 2_990.0,
        );
        let total_reach = reach(100_000.0, 550.0) + reach(20_000.0, 840.0) + 20_000.0;
        close(total.estimated_reach, total_reach);
        close(amount(total.cpm.as_ref()), 1_350.0 / total_reach * 1_000.0);
        close(
            amount(total.earned_media_value.as_ref()),
            (550.0 + 840.0) * 0.087 + 200.0,
        );
        assert_eq!(total.conversions, 2);
        close(amount(total.revenue.as_ref()), 200.5);
        close(total.return_on_spend.expect("spent"), 200.5 / 1_350.0);
        assert_eq!(total.undisclosed_posts, 2);
        close(report.seeding_post_rate.expect("seeded"), 0.5);
        assert!(report.emv_formula.contains("MightyScout"));

        // The second brand: every read, change and list of the first brand's objects is
        // NOT_FOUND (or empty), exactly as for ids that do not exist.
        let mut their_rosters = RosterServiceClient::new(theirs.clone());
        let mut their_campaigns = CampaignServiceClient::new(theirs.clone());
        assert_eq!(
            their_rosters
                .list_rosters(rpb::ListRostersRequest::default())
                .await
                .expect("list")
                .into_inner()
                .rosters
                .len(),
            0
        );
        assert_eq!(
            their_campaigns
                .list_campaigns(cpb::ListCampaignsRequest::default())
                .await
                .expect("list")
                .into_inner()
                .campaigns
                .len(),
            0
        );
        let not_found = |result: Result<_, resonance_proto::tonic::Status>, what: &str| {
            let status = result.err().unwrap_or_else(|| panic!("{what}: succeeded"));
            assert_eq!(status.code(), Code::NotFound, "{what}: {status:?}");
        };
        not_found(
            their_rosters
                .get_roster(rpb::GetRosterRequest {
                    name: roster.name.clone(),
                })
                .await
                .map(drop),
            "get roster",
        );
        not_found(
            their_rosters
                .update_roster(rpb::UpdateRosterRequest {
                    roster: Some(rpb::Roster {
                        name: roster.name.clone(),
                        display_name: "mine now".to_owned(),
                        ..Default::default()
                    }),
                    update_mask: mask(&["display_name"]),
                })
                .await
                .map(drop),
            "update roster",
        );
        not_found(
            their_rosters
                .delete_roster(rpb::DeleteRosterRequest {
                    name: roster.name.clone(),
                    etag: String::new(),
                })
                .await
                .map(drop),
            "delete roster",
        );
        not_found(
            their_rosters
                .get_roster_entry(rpb::GetRosterEntryRequest {
                    name: entries[0].name.clone(),
                })
                .await
                .map(drop),
            "get entry",
        );
        not_found(
            their_rosters
                .list_roster_entries(rpb::ListRosterEntriesRequest {
                    parent: roster.name.clone(),
                    ..Default::default()
                })
                .await
                .map(drop),
            "list entries",
        );
        not_found(
            their_rosters
                .create_roster_entry(rpb::CreateRosterEntryRequest {
                    parent: roster.name.clone(),
                    entry: Some(rpb::RosterEntry {
                        creator: Some(creator("intruder")),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map(drop),
            "add entry",
        );
        not_found(
            their_rosters
                .delete_roster_entry(rpb::DeleteRosterEntryRequest {
                    name: entries[0].name.clone(),
                    etag: String::new(),
                })
                .await
                .map(drop),
            "delete entry",
        );
        not_found(
            their_rosters
                .revoke_api_key(rpb::RevokeApiKeyRequest {
                    name: first.api_key.as_ref().expect("key").name.clone(),
                })
                .await
                .map(drop),
            "revoke key",
        );
        not_found(
            their_campaigns
                .get_campaign(cpb::GetCampaignRequest {
                    name: campaign.name.clone(),
                })
                .await
                .map(drop),
            "get campaign",
        );
        not_found(
            their_campaigns
                .update_campaign(cpb::UpdateCampaignRequest {
                    campaign: Some(cpb::Campaign {
                        name: campaign.name.clone(),
                        display_name: "mine now".to_owned(),
                        ..Default::default()
                    }),
                    update_mask: mask(&["display_name"]),
                })
                .await
                .map(drop),
            "update campaign",
        );
        not_found(
            their_campaigns
                .transition_campaign(transition(CampaignStatus::Cancelled))
                .await
                .map(drop),
            "cancel campaign",
        );
        not_found(
            their_campaigns
                .create_deliverable(deliverable(
                    "intruder",
                    Kind::ProductSeeding(cpb::ProductSeeding {
                        product: "x".to_owned(),
                        quantity: 1,
                        ..Default::default()
                    }),
                    usd(1, 0),
                    "",
                ))
                .await
                .map(drop),
            "add deliverable",
        );
        not_found(
            their_campaigns
                .list_deliverables(cpb::ListDeliverablesRequest {
                    parent: campaign.name.clone(),
                    ..Default::default()
                })
                .await
                .map(drop),
            "list deliverables",
        );
        not_found(
            their_campaigns
                .get_deliverable(cpb::GetDeliverableRequest {
                    name: video.name.clone(),
                })
                .await
                .map(drop),
            "get deliverable",
        );
        not_found(
            their_campaigns
                .update_deliverable(cpb::UpdateDeliverableRequest {
                    deliverable: Some(cpb::Deliverable {
                        name: video.name.clone(),
                        payment_status: PaymentStatus::Paid as i32,
                        ..Default::default()
                    }),
                    update_mask: mask(&["payment_status"]),
                })
                .await
                .map(drop),
            "update deliverable",
        );
        not_found(
            their_campaigns
                .delete_deliverable(cpb::DeleteDeliverableRequest {
                    name: video.name.clone(),
                    etag: String::new(),
                })
                .await
                .map(drop),
            "delete deliverable",
        );
        not_found(
            their_campaigns
                .get_campaign_report(cpb::GetCampaignReportRequest {
                    campaign: campaign.name.clone(),
                })
                .await
                .map(drop),
            "report",
        );
        // A foreign id reads exactly like one that never existed.
        let foreign = their_campaigns
            .get_campaign(cpb::GetCampaignRequest {
                name: campaign.name.clone(),
            })
            .await
            .expect_err("foreign");
        let missing = campaigns
            .get_campaign(cpb::GetCampaignRequest {
                name: "campaigns/999999".to_owned(),
            })
            .await
            .expect_err("missing");
        assert_eq!(
            foreign.message().replace(&campaign.name, "X"),
            missing.message().replace("campaigns/999999", "X")
        );
        // Nothing of the first brand changed.
        let still = campaigns
            .get_campaign(cpb::GetCampaignRequest {
                name: campaign.name.clone(),
            })
            .await
            .expect("get")
            .into_inner()
            .campaign
            .expect("campaign");
        assert_eq!(still.display_name, "Spring glow");
        assert_eq!(still.status, CampaignStatus::Active as i32);
        assert!(rival.id != app.brand);

        // Completing closes the campaign: terms and deliverables freeze, payment may go on.
        campaigns
            .transition_campaign(transition(CampaignStatus::Completed))
            .await
            .expect("complete");
        let frozen = campaigns
            .update_campaign(cpb::UpdateCampaignRequest {
                campaign: Some(cpb::Campaign {
                    name: campaign.name.clone(),
                    display_name: "renamed".to_owned(),
                    ..Default::default()
                }),
                update_mask: mask(&["display_name"]),
            })
            .await
            .expect_err("frozen");
        assert_eq!(frozen.code(), Code::FailedPrecondition);
        let late = campaigns
            .create_deliverable(deliverable(
                "ana.eats",
                Kind::ProductSeeding(cpb::ProductSeeding {
                    product: "late".to_owned(),
                    quantity: 1,
                    ..Default::default()
                }),
                usd(1, 0),
                "",
            ))
            .await
            .expect_err("closed");
        assert_eq!(late.code(), Code::FailedPrecondition);
        campaigns
            .update_deliverable(cpb::UpdateDeliverableRequest {
                deliverable: Some(cpb::Deliverable {
                    name: takeover.name.clone(),
                    payment_status: PaymentStatus::Paid as i32,
                    ..Default::default()
                }),
                update_mask: mask(&["payment_status"]),
            })
            .await
            .expect("paying after completion");
        let reopened = campaigns
            .transition_campaign(transition(CampaignStatus::Active))
            .await
            .expect_err("completed is final");
        assert_eq!(reopened.code(), Code::FailedPrecondition);

        app.stop().await.expect("stop");
    }
}

/// A post by `handle` at `at` with `caption`, for the attribution test.
fn simple_post(handle: &str, id: &str, at: DateTime<Utc>, caption: &str) -> Record {
    post(PostSpec {
        handle,
        id,
        at,
        likes: 100,
        comments: 10,
        views: None,
        caption,
        format: ContentFormat::Post,
        paid: false,
    })
}

/// The external ids of a campaign's attributed posts with how each matched, read page by page.
async fn attributed(
    campaigns: &mut CampaignServiceClient<KeyedChannel>,
    campaign: &str,
) -> Vec<(String, i32, bool)> {
    let (mut found, mut token) = (Vec::new(), String::new());
    loop {
        let page = campaigns
            .list_campaign_posts(cpb::ListCampaignPostsRequest {
                parent: campaign.to_owned(),
                page_size: 1,
                page_token: token,
            })
            .await
            .expect("list campaign posts")
            .into_inner();
        found.extend(
            page.posts
                .into_iter()
                .map(|p| (p.external_id, p.matched_by, p.on_campaign)),
        );
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    found.sort();
    found
}

#[tokio::test]
async fn posts_are_attributed_at_ingestion_and_when_a_campaign_becomes_active() {
    use cpb::AttributionMatch as Match;
    for backend in backends() {
        let app = TestApp::spawn(backend).await.expect("app starts");
        let now = Utc::now();
        let (start, end) = (now - TimeDelta::days(20), now + TimeDelta::days(10));
        let mine = app.channel(app.roster).await.expect("connect");
        let mut campaigns = CampaignServiceClient::new(mine.clone());
        let ingest_channel = app.channel(app.ingest).await.expect("connect");
        let campaign = campaigns
            .create_campaign(cpb::CreateCampaignRequest {
                campaign: Some(cpb::Campaign {
                    display_name: "Glow".to_owned(),
                    goal: CampaignGoal::Engagement as i32,
                    budget: Some(usd(1_000, 0)),
                    window: Some(TimeWindow {
                        start_time: Some(ts(start)),
                        end_time: Some(ts(end)),
                    }),
                    hashtags: vec!["#Glow".to_owned()],
                    mentions: vec!["@acme".to_owned()],
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .expect("campaign")
            .into_inner()
            .campaign
            .expect("campaign");

        // Posted inside the window while the campaign is still a draft: not attributed yet.
        ingest(
            ingest_channel.clone(),
            "early",
            vec![simple_post(
                "ana.eats",
                "a1",
                start + TimeDelta::days(1),
                "serum #glow",
            )],
        )
        .await;
        assert!(attributed(&mut campaigns, &campaign.name).await.is_empty());

        // Activation attributes the stored posts.
        for status in [CampaignStatus::Planned, CampaignStatus::Active] {
            campaigns
                .transition_campaign(cpb::TransitionCampaignRequest {
                    name: campaign.name.clone(),
                    status: status as i32,
                    etag: String::new(),
                })
                .await
                .expect("transition");
        }
        assert_eq!(
            attributed(&mut campaigns, &campaign.name).await,
            [("a1".to_owned(), Match::Hashtag as i32, false)]
        );

        // While active, ingestion attributes what it stores: a mention inside the window, not
        // a branded post before the window, nor an untagged one; pushing them again changes
        // nothing; an edit that drops the hashtag removes the attribution.
        let batch = vec![
            simple_post(
                "ben.moves",
                "b1",
                start + TimeDelta::days(2),
                "thanks @acme",
            ),
            simple_post(
                "ben.moves",
                "b0",
                start - TimeDelta::days(2),
                "teaser #glow",
            ),
            simple_post(
                "cara.cooks",
                "c1",
                start + TimeDelta::days(3),
                "pasta night",
            ),
            simple_post(
                "acme",
                "t1",
                start + TimeDelta::days(4),
                "hello from the team",
            ),
        ];
        ingest(ingest_channel.clone(), "active", batch.clone()).await;
        ingest(ingest_channel.clone(), "active-again", batch).await;
        ingest(
            ingest_channel.clone(),
            "edit",
            vec![simple_post(
                "ana.eats",
                "a1",
                start + TimeDelta::days(1),
                "serum",
            )],
        )
        .await;
        assert_eq!(
            attributed(&mut campaigns, &campaign.name).await,
            [("b1".to_owned(), Match::Mention as i32, false)]
        );

        // A takeover added while active claims the taken-over account's posts in its window;
        // a creator with a deliverable is on the campaign.
        campaigns
            .create_deliverable(cpb::CreateDeliverableRequest {
                parent: campaign.name.clone(),
                deliverable: Some(cpb::Deliverable {
                    creator: Some(creator("ben.moves")),
                    fee: Some(usd(100, 0)),
                    kind: Some(Kind::Takeover(cpb::Takeover {
                        account: Some(creator("acme")),
                        window: Some(TimeWindow {
                            start_time: Some(ts(start + TimeDelta::days(4))),
                            end_time: Some(ts(start + TimeDelta::days(5))),
                        }),
                    })),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .expect("takeover");
        assert_eq!(
            attributed(&mut campaigns, &campaign.name).await,
            [
                ("b1".to_owned(), Match::Mention as i32, true),
                ("t1".to_owned(), Match::Takeover as i32, false),
            ]
        );

        // Another brand cannot read them.
        let (_, rival_key) = app
            .store
            .brands()
            .create("Rival", now)
            .await
            .expect("second brand");
        let mut theirs = CampaignServiceClient::new(
            app.channel_with_key(app.roster, &rival_key.secret)
                .await
                .expect("connect"),
        );
        let hidden = theirs
            .list_campaign_posts(cpb::ListCampaignPostsRequest {
                parent: campaign.name.clone(),
                ..Default::default()
            })
            .await
            .expect_err("another brand's campaign");
        assert_eq!(hidden.code(), Code::NotFound);
        app.stop().await.expect("stop");
    }
}
