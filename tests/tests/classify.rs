#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! ClassifyFollowers over gRPC: the built-in model, the rules fallback, and bad profiles named
//! by index.

use resonance_proto::scoring::scoring_service_client::ScoringServiceClient;
use resonance_proto::scoring::{AudienceType, ClassifyFollowersRequest, FollowerProfile};
use resonance_proto::tonic::Code;
use resonance_store::testing::Backend;
use resonance_tests::TestApp;

fn profile(id: &str, followers: i64, following: i64, media: i64, picture: bool) -> FollowerProfile {
    FollowerProfile {
        id: id.to_owned(),
        followers,
        following,
        media_count: media,
        has_profile_picture: picture,
        username_length: 10,
        bio_length: if picture { 40 } else { 0 },
        ..Default::default()
    }
}

fn request() -> ClassifyFollowersRequest {
    ClassifyFollowersRequest {
        profiles: vec![
            profile("mass", 30, 4_200, 0, false),
            profile("friend", 410, 380, 120, true),
            profile("star", 250_000, 900, 1_400, true),
        ],
    }
}

#[tokio::test]
async fn followers_are_classified_by_the_builtin_model_or_the_rules() {
    for (setting, classifier) in [
        ("builtin", "model:logistic-regression/1"),
        ("rules", "rules"),
    ] {
        let app = TestApp::spawn_with(Backend::Sqlite, |s| {
            s.scoring.authenticity_model = setting.to_owned();
        })
        .await
        .expect("app starts");
        let mut client =
            ScoringServiceClient::new(app.channel(app.scoring).await.expect("connect"));
        let response = client
            .classify_followers(request())
            .await
            .expect("classified")
            .into_inner();
        assert!(response.classifier.starts_with(classifier), "{response:?}");
        let verdicts: Vec<(&str, bool, i32)> = response
            .classifications
            .iter()
            .map(|c| (c.id.as_str(), c.fake, c.audience_type))
            .collect();
        assert_eq!(
            verdicts,
            [
                ("mass", true, AudienceType::MassFollower as i32),
                ("friend", false, AudienceType::Real as i32),
                ("star", false, AudienceType::Influencer as i32),
            ],
            "{setting}"
        );
        assert!((response.fake_share - 1.0 / 3.0).abs() < 1e-9);
        assert!(!response.classifications[0].reasons.is_empty());

        let mut bad = request();
        bad.profiles[1].following = -5;
        let error = client.classify_followers(bad).await.expect_err("negative");
        assert_eq!(error.code(), Code::InvalidArgument);
        assert!(
            error.message().starts_with("profiles[1].following"),
            "{error:?}"
        );
        app.stop().await.expect("stops");
    }
}
